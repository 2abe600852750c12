#!/usr/bin/python3
"""Writes the strings a document must give back when its text is copied or searched, one per line as
CATEGORY<TAB>TEXT, for tests/extract/check.py.

    expect.py letter LANG CASES.csv CRIME_REF     a letter: the case's reference, names, phone, emails, and the
                                                  numbers, web addresses and test sentences of its catalogue units
    expect.py booklet LANG                        a booklet: numbers, web addresses and test sentences

Test sentences come from the real units of translations/LANG.xlf that the template prints unconditionally (not
inside <if>, not in the running header or footer) and that take no arguments; each unit is cut into sentences,
and 15 of them are taken, spread evenly over the document. Run from anywhere; paths are the repository's."""
import csv
import os
import re
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TPL = "{urn:vipgen:template:1}"
XLF = "{urn:oasis:names:tc:xliff:document:2.0}"
SENTENCES = 15


def template_units(kind):
    """Unit ids the template always prints in its body, in document order."""
    tree = ET.parse(os.path.join(ROOT, "templates", kind + ".xml"))
    ids = []

    def walk(el, skip):
        tag = el.tag.replace(TPL, "")
        skip = skip or tag in ("if", "header", "footer", "title")
        if tag == "msg" and not skip and el.get("id") not in ids:
            ids.append(el.get("id"))
        for child in el:
            walk(child, skip)

    walk(tree.getroot(), False)
    return ids


def catalogue(lang):
    tree = ET.parse(os.path.join(ROOT, "translations", lang + ".xlf"))
    units = {}
    for unit in tree.iter(XLF + "unit"):
        target = unit.find(f"{XLF}segment/{XLF}target")
        if target is not None and target.text:
            units[unit.get("id")] = target.text
    return units


def sentences(text, lang):
    """A unit's text cut after sentence ends (Latin, Arabic and Urdu full stops and question marks, CJK stops)."""
    if lang.startswith("zh"):
        parts = re.split(r"(?<=[。！？])", text)
    else:
        parts = re.split(r"(?<=[.!?؟۔।])\s+", text)
    least = 8 if lang.startswith("zh") else 25
    return [p.strip() for p in parts if len(p.strip()) >= least]


def numbers_and_urls(text):
    """Web addresses and phone numbers printed in a unit's text (digits of any script)."""
    found = []
    for m in re.finditer(r"\b(?:[a-z0-9-]+\.)+(?:uk|org|com|gov)(?:/[a-z0-9-]+)*", text):
        found.append(("url", m.group(0)))
    for m in re.finditer(r"\d+(?:[ \u00a0]\d+)*", text):
        if sum(ch.isdigit() for ch in m.group(0)) >= 5:
            found.append(("phone", m.group(0)))
    return found


def unit_strings(kind, lang):
    units = catalogue(lang)
    out, pool = [], []
    for uid in template_units(kind):
        text = units.get(uid)
        if text is None or "{" in text:
            continue
        text = text.replace("''", "'")  # MessageFormat's quoted apostrophe
        out.extend(numbers_and_urls(text))
        pool.extend(sentences(text, lang))
    if len(pool) < SENTENCES:
        sys.exit(f"expect.py: {kind} in {lang}: only {len(pool)} sentences to test")
    step = len(pool) / SENTENCES
    out.extend(("sentence", pool[int(i * step)]) for i in range(SENTENCES))
    return out


def case_strings(path, crime_ref):
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if row["crime_ref"] == crime_ref:
                out = [("ref", row["crime_ref"]), ("name", row["victim_name"]), ("name", row["officer_name"]),
                       ("phone", row["officer_phone"])]
                if row.get("officer_email"):
                    out.append(("email", row["officer_email"]))
                return out
    sys.exit(f"expect.py: {path}: no row with crime_ref {crime_ref}")


def main(argv):
    if len(argv) == 4 and argv[0] == "letter":
        items = case_strings(argv[2], argv[3]) + unit_strings("letter", argv[1])
    elif len(argv) == 2 and argv[0] == "booklet":
        items = unit_strings("booklet", argv[1])
    else:
        sys.exit(__doc__)
    seen = set()
    for cat, text in items:
        if (cat, text) not in seen:
            seen.add((cat, text))
            print(f"{cat}\t{text}")


if __name__ == "__main__":
    main(sys.argv[1:])
