// The links as Firefox's pdf.js opens them: page.getAnnotations() for every page.
// Usage: node annotations.mjs FILE.pdf   prints a JSON list, one entry per link annotation: its page (1-based), its
// object ("17R"), the URI it opens, or the page (1-based) and top a go-to link jumps to.
import { readFile } from "node:fs/promises";

console.log = (...args) => process.stderr.write(args.join(" ") + "\n");
const { getDocument, VerbosityLevel } = await import("pdfjs-dist/legacy/build/pdf.mjs");

const data = await readFile(process.argv[2]);
const task = getDocument({ data: new Uint8Array(data), disableFontFace: true, isEvalSupported: false,
                           useSystemFonts: false, verbosity: VerbosityLevel.ERRORS });
const doc = await task.promise;
const links = [];
for (let i = 1; i <= doc.numPages; i++) {
    const page = await doc.getPage(i);
    for (const a of await page.getAnnotations()) {
        if (a.subtype !== "Link")
            continue;
        const link = { page: i, id: a.id, url: a.url || null, destPage: null, destTop: null };
        if (Array.isArray(a.dest)) {
            link.destPage = (await doc.getPageIndex(a.dest[0])) + 1;
            link.destTop = a.dest[3];
        }
        links.push(link);
    }
}
process.stdout.write(JSON.stringify(links) + "\n");
await task.destroy();
