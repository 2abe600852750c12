// The structure tree as Firefox's accessibility layer gets it: pdf.js page.getStructTree() for every page.
// Usage: node structtree.mjs FILE.pdf   prints per document: roles counted, figures' alt texts, languages.
import { readFile } from "node:fs/promises";

import { openPdf } from "./pdfjs.mjs";

const doc = await openPdf(await readFile(process.argv[2]));
const roles = {}, alts = [], langs = new Set();
let contentRefs = 0, pagesWithTree = 0;
function walk(node) {
    if (node.type === "content") { contentRefs++; return; }
    if (node.role) roles[node.role] = (roles[node.role] || 0) + 1;
    if (node.alt) alts.push(node.alt);
    if (node.lang) langs.add(node.lang);
    for (const k of node.children || []) walk(k);
}
for (let i = 1; i <= doc.numPages; i++) {
    const page = await doc.getPage(i);
    const tree = await page.getStructTree();
    if (tree && tree.children && tree.children.length) pagesWithTree++;
    if (tree) walk(tree);
}
process.stdout.write(JSON.stringify({ pages: doc.numPages, pagesWithTree, roles, alts, langs: [...langs], contentRefs }) + "\n");
await doc.destroy();
