#!/usr/bin/python3
"""Checks that PDFs give their text back in the three engines victims' viewers use: poppler (pdftotext), pdf.js and
PDFium (both through extract.mjs, under Node), and to a screen reader in Firefox (a11y: pdf.js's structure tree
and the text of its marked content, extract.mjs).

    check.py [--label L] PDF EXPECT [[--label L] PDF EXPECT ...]

EXPECT has one expected string a line, CATEGORY<TAB>TEXT (expect.py writes them). A string counts as found when it
occurs whole, in logical order, in the document's text; whitespace is normalised: any run of spaces and line
breaks matches any other, and a line break may also stand where the text has none between two characters where
lines break without a space (after a CJK character or before one, after '/', '-' or '.' in an address). Each
engine's text is taken as its viewer gives it to copy and search: pdf.js's as Firefox's find bar reads it (a word
hyphenated at a line end joined, pdfjs_find), PDFium's without the marks Chrome ignores (normalise); both sides in
Unicode's composed form (NFC). For each PDF, engine and category it prints

    RESULT <label> <engine> <category> <found> <total>

and, for each string not found, MISSING <label> <engine> <category> <text>. Exit status 0 unless a tool failed."""
import json
import os
import re
import subprocess
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = ("poppler", "pdfjs", "pdfium", "a11y")
CJK = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
SOFT_BREAK = re.compile(rf"[{CJK}/.\-]")


def pattern(text):
    """A regular expression for text with whitespace normalised and line breaks allowed where lines break."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).strip())
    out = []
    for i, ch in enumerate(text):
        if ch == " ":
            out.append(r"\s+")
            continue
        out.append(re.escape(ch))
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if nxt != " " and (SOFT_BREAK.match(ch) or re.match(rf"[{CJK}]", nxt)):
            out.append(r"(?:[ \t]*\n\s*)?")
    return re.compile("".join(out))


def poppler_pages(pdf):
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], check=True, capture_output=True).stdout
    return out.decode("utf-8").split("\f")


def node_pages(pdfs):
    out = subprocess.run(["node", os.path.join(HERE, "extract.mjs"), "--json", *pdfs], check=True,
                         capture_output=True, cwd=HERE).stdout
    return json.loads(out.decode("utf-8"))


def normalise(pages):
    """Pages joined by line breaks; every other whitespace character (no-break and thin spaces too) is a space.
    The bidi embedding and isolate controls pdftotext puts around right-to-left lines and the left-to-right runs
    in them (so that its plain-text output displays in order) are the engine's markup, not the document's text:
    they are removed, from every engine's output alike. So is U+FFFE, which PDFium gives for a hyphen that ends a
    line inside a word (its CPDF_TextPage joins the word's halves around it): Chrome's PDF viewer counts it as an
    ignorable character (kPDFSoftHyphenMarker in its pdfium_range.h) and leaves it out of what it copies and
    searches. Text is compared in Unicode's composed form (NFC): canonically equivalent texts are the same text,
    and PDFium decomposes some characters of right-to-left text as it reads them (Urdu's U+06C2 as U+06C1 U+0654)."""
    text = unicodedata.normalize("NFC", "\n".join(pages)).replace("\r", "\n")
    text = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe]", "", text)
    return re.sub(r"[^\S\n]", " ", text)


def pdfjs_find(text):
    """What Firefox's find bar searches in pdf.js's text (normalize() in pdf.js's pdf_find_controller): a hyphen
    that ends a line after a non-space character and its line break are left out, the word's halves joined
    ("pomaga-\njącą" is found as "pomagającą"); between a lower-case and an upper-case letter only the line
    break goes (a compound word, "well-\nKnown")."""
    def join(m):
        compound = m.group(1).islower() and m.group(2).isupper()
        return m.group(1) + ("-" if compound else "") + m.group(2)

    return re.sub(r"(\S)-\n(.?)", join, text)


def main(argv):
    jobs, label = [], None
    while argv:
        if argv[0] == "--label" and len(argv) > 1:
            label, argv = argv[1], argv[2:]
            continue
        if len(argv) < 2:
            sys.exit(__doc__)
        jobs.append((label or os.path.basename(argv[0]), argv[0], argv[1]))
        label, argv = None, argv[2:]
    if not jobs:
        sys.exit(__doc__)
    node = node_pages([pdf for _, pdf, _ in jobs])
    for label, pdf, expect in jobs:
        with open(expect, encoding="utf-8") as f:
            items = [line.rstrip("\n").split("\t", 1) for line in f if "\t" in line]
        texts = {"poppler": normalise(poppler_pages(pdf)), "pdfjs": pdfjs_find(normalise(node[pdf]["pdfjs"])),
                 "pdfium": normalise(node[pdf]["pdfium"]), "a11y": normalise(node[pdf]["a11y"])}
        categories = list(dict.fromkeys(cat for cat, _ in items))
        for engine in ENGINES:
            for cat in categories:
                wanted = [t for c, t in items if c == cat]
                missing = [t for t in wanted if not pattern(t).search(texts[engine])]
                print(f"RESULT {label} {engine} {cat} {len(wanted) - len(missing)} {len(wanted)}")
                for t in missing:
                    print(f"MISSING {label} {engine} {cat} {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
