#!/usr/bin/python3
"""Checks that on every page after the first the running header stands clear above the body: no text line of
the page (from poppler's pdftotext -bbox-layout) starts less than GAP points below the header line's bottom.
Usage: header_clear.py FILE.pdf... ; prints one line per page that fails and exits 1 if any does."""
import subprocess
import sys
import xml.etree.ElementTree as ET

GAP = 3.0  # points: the header's rule and some air between it and the body
NS = "{http://www.w3.org/1999/xhtml}"

bad = 0
for path in sys.argv[1:]:
    xml = subprocess.run(["pdftotext", "-bbox-layout", path, "-"], capture_output=True, check=True).stdout
    pages = ET.fromstring(xml).iter(NS + "page")
    for number, page in enumerate(pages, 1):
        lines = sorted((float(l.get("yMin")), float(l.get("yMax"))) for l in page.iter(NS + "line"))
        if number == 1 or len(lines) < 2:
            continue
        header_bottom = lines[0][1]
        # lines beside the header (a second piece of it in another font) share its top
        body = [l for l in lines[1:] if l[0] > lines[0][0] + 1.0]
        if body and body[0][0] < header_bottom + GAP:
            print("%s page %d: body text at %.1f pt, header ends at %.1f pt" % (path, number, body[0][0], header_bottom))
            bad = 1
sys.exit(bad)
