// The links as Firefox's pdf.js opens them: page.getAnnotations() for every page.
// Usage: node annotations.mjs FILE.pdf   prints a JSON list, one entry per link annotation: its page (1-based), its
// object ("17R"), the URI it opens, or the page (1-based) and top a go-to link jumps to.
import { readFile } from "node:fs/promises";

import { openPdf } from "./pdfjs.mjs";

const doc = await openPdf(await readFile(process.argv[2]));
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
await doc.destroy();
