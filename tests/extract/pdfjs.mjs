// Opens a PDF with pdf.js (pdfjs-dist) as the extraction scripts use it: no fonts loaded into a page, no eval, no
// system fonts, errors only. pdf.js prints its warnings (no canvas polyfills: not needed for text) with
// console.log, so importing this sends console.log to stderr and keeps stdout for the scripts' output.
console.log = (...args) => process.stderr.write(args.join(" ") + "\n");
const { getDocument, VerbosityLevel } = await import("pdfjs-dist/legacy/build/pdf.mjs");

// The pdf.js document for the bytes of a PDF.
export async function openPdf(data) {
    const task = getDocument({ data: new Uint8Array(data), disableFontFace: true, isEvalSupported: false,
                               useSystemFonts: false, verbosity: VerbosityLevel.ERRORS });
    return task.promise;
}
