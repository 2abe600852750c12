#!/usr/bin/python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<harness>/) from the repository's own files: test data,
examples, templates and the translations cut small. Run from anywhere; it replaces the generated seeds (files named
seed-*) and leaves other files (regression inputs from fixed crashes) alone. Debian's python3, standard library only."""

import csv
import io
import os
import re
import struct
import xml.etree.ElementTree as ET

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
LANGS = ["en", "pl", "ro", "ar", "fa", "ur", "pa", "zh-Hans"]  # generator/text/lang.c order: byte values index it
XLIFF = "{urn:oasis:names:tc:xliff:document:2.0}"
TEMPLATE = "{urn:vipgen:template:1}"
ET.register_namespace("", "urn:vipgen:template:1")


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def start(harness):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.remove(os.path.join(d, name))
    return d


def put(d, name, data):
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def case_corpus():
    d = start("fuzz_case")
    for name in sorted(os.listdir(os.path.join(ROOT, "tests", "data", "case"))):
        put(d, name, read(os.path.join("tests", "data", "case", name)))
    put(d, "examples.csv", read("examples/cases.csv"))
    lines = read("examples/cases.csv").decode().splitlines(keepends=True)
    put(d, "crlf-bom.csv", ("\ufeff" + "".join(lines[:3])).replace("\n", "\r\n"))
    put(d, "header-only.csv", lines[0])


def catalog_units(lang):
    """The units of a translations/ catalogue as text, notes dropped, in file order."""
    text = read("translations/%s.xlf" % lang).decode()
    units = re.findall(r"<unit\b.*?</unit>", text, re.S)
    return [re.sub(r"\s*<notes>.*?</notes>", "", u, flags=re.S) for u in units]


def xliff(lang, units, with_group=False):
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" '
            'version="2.0" srcLang="en" trgLang="%s">\n  <file id="vipgen">\n' % lang)
    body = "\n    ".join(units)
    if with_group:
        body = ('<group id="common">\n      <notes>\n        <note category="translator">Texts used in both the '
                'letter and the booklet.</note>\n      </notes>\n    ' + body + "\n    </group>")
    return head + "    " + body + "\n  </file>\n</xliff>\n"


def catalog_corpus():
    d = start("fuzz_catalog")
    for name in sorted(os.listdir(os.path.join(ROOT, "tests", "data", "catalog"))):
        put(d, name, read(os.path.join("tests", "data", "catalog", name)))
    for lang in LANGS:
        units = catalog_units(lang)
        with_args = [u for u in units if "{" in u]
        put(d, lang + "-first.xlf", xliff(lang, units[:6], with_group=True))
        put(d, lang + "-args.xlf", xliff(lang, with_args[::max(1, len(with_args) // 8)][:8]))
    # states the loader treats differently: initial, missing and empty targets
    en = catalog_units("en")
    initial = en[1].replace('state="translated"', 'state="initial"')
    missing = re.sub(r"\s*<target>.*?</target>", "", en[2], flags=re.S)
    empty = re.sub(r"<target>.*?</target>", "<target></target>", en[3], flags=re.S)
    put(d, "states.xlf", xliff("pl", [initial, missing, empty]))


def message_patterns(lang):
    tree = ET.parse(os.path.join(ROOT, "translations", lang + ".xlf"))
    out = []
    for seg in tree.iter(XLIFF + "segment"):
        t = seg.find(XLIFF + "target")
        if t is not None and t.text:
            out.append(t.text)
    return out


NUMBER_ARGS = {"days", "page", "pages"}
DATE_ARGS = {"offence_date", "reported_date", "letter_date", "date"}


def message_seed(lang_index, pattern, value="Se\u00e1n O'Brien {0}"):
    names = sorted(set(re.findall(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)", pattern)))
    types = 0
    for i, name in enumerate(names[:4]):
        types |= (1 if name in NUMBER_ARGS else 2 if name in DATE_ARGS else 0) << (2 * i)
    head = bytes([lang_index, types]) + struct.pack("<h", 1234) + bytes([124, 30])
    return head + pattern.encode() + b"\0" + value.encode()


def message_corpus():
    d = start("fuzz_message")
    for i, lang in enumerate(LANGS):
        patterns = message_patterns(lang)
        chosen = [p for p in patterns if "{" in p]
        chosen = chosen[:: max(1, len(chosen) // 10)][:10] + patterns[:2]
        for k, p in enumerate(chosen):
            put(d, "%s-%02d" % (lang, k), message_seed(i, p))
    extra = [
        "{days, plural, =0 {none} one {# item} other {# items}}",
        "{days, selectordinal, one {#st} two {#nd} few {#rd} other {#th}}",
        "{name, select, female {she} male {he} other {they}}",
        "{date, date, long} {date, date, short} {date, time}",
        "{days, number, percent} {days, number, integer} {days, spellout}",
        "{days, choice, 0#none|1#one|1<many}",
        "It''s '{'quoted'}' {name}",
        "{0} numbered",
    ]
    for k, p in enumerate(extra):
        put(d, "syntax-%02d" % k, message_seed(k % len(LANGS), p, "12.5"))


def text_corpus():
    d = start("fuzz_text")
    for i, lang in enumerate(LANGS):
        sample = read("examples/samples/%s.txt" % lang)
        put(d, lang + ".txt", bytes([i]) + sample)
        half = sample.decode()[: len(sample.decode()) // 2]
        put(d, lang + "-fit.txt", bytes([i | 0x80]) + half.encode())
    crafted = ("# Title\n\n## Section\n\n### Sub\n\n{center} Centred line\n\n{end} End-aligned\n\n"
               "{justify} A justified paragraph that runs on for a while, so that lines break and stretch.\n"
               "second line joined\n\n{start} Name: [[ar:\u0633\u0644\u0627\u0645]] and [[zh-Hans:\u4f60\u597d]]"
               " tel. 0300\u00a0555\u00a00147\n\n\u2067\u05d0\u0628 123\u2069 \u202eRLO\u202c end\u2028break\n")
    put(d, "crafted-en.txt", bytes([0]) + crafted.encode())
    put(d, "crafted-ar.txt", bytes([3]) + crafted.encode())


def letter_corpus():
    d = start("fuzz_letter")
    rows = list(csv.DictReader(io.StringIO(read("examples/cases.csv").decode())))
    for k, row in enumerate(rows):
        lang = row["language"]
        i = LANGS.index(lang) if lang in LANGS else 0
        flag = 0x80 if row["enhanced_rights"].lower() in ("yes", "1", "true") else 0
        fields = [row["victim_name"], row["address_1"], row["address_2"], row["town"], row["location"]]
        put(d, "%02d-%s" % (k, lang), bytes([i | flag]) + "\0".join(fields).encode())
    long_address = ["Dr Abdul-Rahman Al-Hashimi Ibn Khaldun", "Flat 12b, The Old Mill Buildings, 1234 Long Road",
                    "Upper Northtown Industrial Estate", "Northtown-upon-Tyne", 'Rear of "The Anchor", Quay St']
    put(d, "long-ur", bytes([5]) + "\0".join(long_address).encode())


def template_corpus():
    d = start("fuzz_template")
    letter = read("templates/letter.xml").decode()
    put(d, "letter.xml", letter)
    # the letter with its body cut in two, and the booklet's first part (comments dropped)
    for name, tree in (("letter", ET.parse(os.path.join(ROOT, "templates", "letter.xml"))),
                       ("booklet", ET.parse(os.path.join(ROOT, "templates", "booklet.xml")))):
        body = tree.getroot().find(TEMPLATE + "body")
        blocks = list(body)
        parts = [blocks[: len(blocks) // 2], blocks[len(blocks) // 2:]] if name == "letter" else [blocks[:60]]
        for k, part in enumerate(parts):
            body[:] = part
            put(d, "%s-part%d.xml" % (name, k + 1), ET.tostring(tree.getroot(), encoding="unicode") + "\n")
        body[:] = blocks
    put(d, "everything.xml", """<?xml version="1.0" encoding="UTF-8"?>
<template xmlns="urn:vipgen:template:1" kind="letter">
  <page size="A4" margin-top="12mm" margin-bottom="17mm" margin-start="18mm" margin-end="16mm" body-size="9.5" max-pages="2">
    <lang tag="ur" leading="0.1"/>
  </page>
  <param name="force_name" value="Northshire Police"/>
  <param name="unit_name" msg="letter.title"/>
  <title><msg id="letter.title"/></title>
  <letterhead><image src="logo.png" width="11mm" align="end"/><p size="12" weight="bold"><field name="force_name"/></p></letterhead>
  <address-window><line><field name="victim_name"/></line><line><field name="postcode"/></line></address-window>
  <reference><line><msg id="letter.date_line"/></line></reference>
  <header><msg id="common.crime_ref_label"/><sp/><field name="crime_ref"/><sp/><page-number/></header>
  <footer><msg id="common.page_of"/></footer>
  <body>
    <h1 bookmark="true"><msg id="letter.title"/></h1>
    <contents/>
    <h2 bookmark="false"><em><msg id="letter.subject"/></em></h2>
    <p align="center"><msg id="letter.greeting"/><br/><link href="https://www.victimandwitnessinformation.org.uk/"><msg id="letter.booklet.heading"/></link></p>
    <p align="end" size="14"><field name="offence_date" format="date"/><sp/><field name="offence" format="code"/><sp/><field name="email" fallback="common.not_given"/></p>
    <ul columns="1"><li><msg id="letter.rights.1"/></li><li><field name="location" format="text"/></li></ul>
    <table columns="1 2 1">
      <thead><tr><td><msg id="common.date_label"/></td><td><msg id="common.crime_ref_label"/></td><td/></tr></thead>
      <tr><td><field name="letter_date" format="date"/></td><td><field name="crime_ref"/></td><td><page-number/></td></tr>
    </table>
    <box tone="info"><p><msg id="common.emergency"/></p></box>
    <space height="4pt"/>
    <page-break/>
    <if field="enhanced_rights" equals="no"><box tone="important"><p weight="regular"><msg id="letter.enhanced.text"/></p></box></if>
    <if field="address_2" empty="true"><p align="justify"><msg id="letter.closing"/></p></if>
  </body>
</template>
""")
    put(d, "minimal.xml", '<template xmlns="urn:vipgen:template:1" kind="booklet"><page size="A4" margin-top="1mm" '
        'margin-bottom="1mm" margin-start="1mm" margin-end="1mm"/><body/></template>\n')


def main():
    case_corpus()
    catalog_corpus()
    message_corpus()
    text_corpus()
    letter_corpus()
    template_corpus()


if __name__ == "__main__":
    main()
