// Text out of a PDF the way victims' viewers get it: pdf.js (Firefox) and PDFium compiled to WebAssembly (Chrome,
// Edge, Android). Usage:
//   node extract.mjs pdfjs|pdfium FILE.pdf        UTF-8 text per page, pages separated by a form feed
//   node extract.mjs --json FILE.pdf...           {"FILE": {"pdfjs": [page, ...], "pdfium": [page, ...]}, ...}
// pdf.js: getTextContent per page, the items' strings joined with a line break where an item ends a line (hasEOL),
// which is how the viewer's text layer and its find bar put them together. PDFium: FPDFText_GetText over the page.
import { readFile } from "node:fs/promises";

import { openPdf } from "./pdfjs.mjs";
const { PDFiumLibrary } = await import("@hyzyla/pdfium");

async function pdfjsPages(data) {
    const doc = await openPdf(data);
    try {
        const pages = [];
        for (let i = 1; i <= doc.numPages; i++) {
            const page = await doc.getPage(i);
            const content = await page.getTextContent();
            let text = "";
            for (const item of content.items) {
                if (!("str" in item)) continue; // marked-content begin/end
                text += item.str;
                if (item.hasEOL) text += "\n";
            }
            pages.push(text);
            page.cleanup();
        }
        return pages;
    } finally {
        await doc.destroy();
    }
}

let pdfiumLibrary = null;

async function pdfiumPages(data) {
    pdfiumLibrary ??= await PDFiumLibrary.init();
    const doc = await pdfiumLibrary.loadDocument(new Uint8Array(data));
    try {
        const pages = [];
        for (const page of doc.pages()) pages.push(page.getText().replace(/\r\n?/g, "\n"));
        return pages;
    } finally {
        doc.destroy();
    }
}

const engines = { pdfjs: pdfjsPages, pdfium: pdfiumPages };

async function main(argv) {
    if (argv[0] === "--json" && argv.length > 1) {
        const out = {};
        for (const file of argv.slice(1)) {
            const data = await readFile(file);
            out[file] = { pdfjs: await pdfjsPages(data), pdfium: await pdfiumPages(data) };
        }
        process.stdout.write(JSON.stringify(out));
    } else if (argv.length === 2 && engines[argv[0]]) {
        const pages = await engines[argv[0]](await readFile(argv[1]));
        process.stdout.write(pages.map((p) => p + "\n").join("\f"));
    } else {
        process.stderr.write("usage: node extract.mjs pdfjs|pdfium FILE.pdf | node extract.mjs --json FILE.pdf...\n");
        return 2;
    }
    pdfiumLibrary?.destroy();
    return 0;
}

// exitCode, not exit(): a large result written to a pipe must be flushed before Node ends.
main(process.argv.slice(2)).then(
    (rc) => (process.exitCode = rc),
    (e) => {
        process.stderr.write(`extract.mjs: ${e && e.message ? e.message : e}\n`);
        process.exitCode = 1;
    },
);
