// Text out of a PDF the way victims' viewers get it: pdf.js (Firefox) and PDFium compiled to WebAssembly (Chrome,
// Edge, Android), and what Firefox gives a screen reader (a11y). Usage:
//   node extract.mjs pdfjs|pdfium|a11y FILE.pdf   UTF-8 text per page, pages separated by a form feed
//   node extract.mjs --json FILE.pdf...           {"FILE": {"pdfjs": [page, ...], "pdfium": [...], "a11y": [...]}}
// pdf.js: getTextContent per page, the items' strings joined with a line break where an item ends a line (hasEOL),
// which is how the viewer's text layer and its find bar put them together. PDFium: FPDFText_GetText over the page.
import { readFile } from "node:fs/promises";

import { openPdf } from "./pdfjs.mjs";
const { PDFiumLibrary } = await import("@hyzyla/pdfium");

// Each page of a PDF through pdf.js, as pageText(page) gives it.
async function pdfjsEachPage(data, pageText) {
    const doc = await openPdf(data);
    try {
        const pages = [];
        for (let i = 1; i <= doc.numPages; i++) {
            const page = await doc.getPage(i);
            pages.push(await pageText(page));
            page.cleanup();
        }
        return pages;
    } finally {
        await doc.destroy();
    }
}

function pdfjsPages(data) {
    return pdfjsEachPage(data, async (page) => {
        const content = await page.getTextContent();
        let text = "";
        for (const item of content.items) {
            if (!("str" in item)) continue; // marked-content begin/end
            text += item.str;
            if (item.hasEOL) text += "\n";
        }
        return text;
    });
}

// a11y: Firefox's accessibility tree for a page is its structure tree (pdf.js getStructTree), each element owning the
// text layer's spans of its marked-content sequences (aria-owns): the text of each sequence (getTextContent with
// marked content, items inside the sequence, a line break where an item ends a line) in structure order, a line
// break after each block element. Artifacts (running header and footer) are in no element and are not read.
const BLOCKS = new Set(["P", "H1", "H2", "H3", "H4", "H5", "H6", "LI", "Lbl", "LBody", "TD", "TH", "TOCI", "Caption"]);

function a11yPages(data) {
    return pdfjsEachPage(data, async (page) => {
        const content = await page.getTextContent({ includeMarkedContent: true });
        const text = new Map(), open = [];
        for (const item of content.items) {
            if (item.type === "beginMarkedContent" || item.type === "beginMarkedContentProps") {
                open.push(item.id ?? null);
            } else if (item.type === "endMarkedContent") {
                open.pop();
            } else if ("str" in item) {
                const id = open.findLast((x) => x);
                if (id) text.set(id, (text.get(id) ?? "") + item.str + (item.hasEOL ? "\n" : ""));
            }
        }
        let out = "";
        const walk = (node) => {
            if (node.type === "content") {
                out += text.get(node.id) ?? "";
                return;
            }
            for (const kid of node.children ?? []) walk(kid);
            if (BLOCKS.has(node.role)) out += "\n";
        };
        const tree = await page.getStructTree();
        if (tree) walk(tree);
        return out;
    });
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

const engines = { pdfjs: pdfjsPages, pdfium: pdfiumPages, a11y: a11yPages };

async function main(argv) {
    if (argv[0] === "--json" && argv.length > 1) {
        const out = {};
        for (const file of argv.slice(1)) {
            const data = await readFile(file);
            out[file] = { pdfjs: await pdfjsPages(data), pdfium: await pdfiumPages(data), a11y: await a11yPages(data) };
        }
        process.stdout.write(JSON.stringify(out));
    } else if (argv.length === 2 && engines[argv[0]]) {
        const pages = await engines[argv[0]](await readFile(argv[1]));
        process.stdout.write(pages.map((p) => p + "\n").join("\f"));
    } else {
        process.stderr.write("usage: node extract.mjs pdfjs|pdfium|a11y FILE.pdf | node extract.mjs --json FILE.pdf...\n");
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
