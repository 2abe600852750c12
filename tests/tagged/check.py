#!/usr/bin/python3
"""Tagged PDF (PDF/UA-1) checks over one vipgen PDF, read with qpdf (qpdf --json, the objects and the decoded page
content) and poppler (pdfinfo -struct-text, the structure tree with its text). Prints PASS/FAIL lines as
tests/e2e/lib.sh does, and INFO lines with figures.

Usage: check.py [--lang TAG] [--ref CRIME_REF] [--booklet] [--letter] [--span-lang TAG] [--uri URI] [--pdfjs JSON]
                [--pdfjs-links JSON] [--english TEXT] LABEL FILE.pdf
(--pdfjs: what tests/extract/structtree.mjs printed for the file; --pdfjs-links: tests/extract/annotations.mjs's;
--uri: a link the PDF must have; --english: text, English in another language's document, that must be read as
English: in an element or Span with /Lang en, or under one.)

Checked: the catalog (MarkInfo, Lang, DisplayDocTitle, XMP metadata with the PDF/UA identifier, the title as in
the Info dict); every page's StructParents and the parent tree against the marked content in the page streams and
the MCIDs the tree refers to; every painting operator in an MCID sequence or an artifact, marked content balanced,
an MCID sequence neither nested nor straddling q/Q or BT/ET; link annotations in Link elements (OBJR, StructParent,
Contents, Tabs /S); each web or email address link opening the address its Link element's text spells (https:// or
mailto:), in qpdf and in pdf.js; the logo as a Figure with /Alt; the running footer not in the tree; a letter's
summary table (Table/TR/TD) and crime reference; a booklet's headings (H1/H2, in order, as its bookmarks give them,
right-to-left text read back into logical order), its lists (LI = Lbl + LBody), its contents (TOC/TOCI, each entry
a Link going where its heading's bookmark goes, in qpdf and in pdf.js) and its numbered sections (Sect, each
holding its H1)."""
from urllib.parse import urlsplit
import base64
import json
import re
import subprocess
import sys
import unicodedata

results = []


def check(name, ok, why=""):
    results.append((name, ok, why))


def qpdf_json(path):
    out = subprocess.run(["qpdf", "--json", "--json-stream-data=inline", "--decode-level=generalized", path],
                         capture_output=True, check=True).stdout
    return json.loads(out)["qpdf"][1]


def value(objs, ref):
    o = objs.get("obj:" + ref) if isinstance(ref, str) and ref.endswith(" R") else None
    if o is None:
        return ref
    return o.get("value", o.get("stream", {}).get("dict"))


def stream(objs, ref):
    return objs["obj:" + ref]["stream"]


def text_string(s):
    """A qpdf JSON string: u:... is Unicode, b:... hex bytes."""
    if isinstance(s, str) and s.startswith("u:"):
        return s[2:]
    if isinstance(s, str) and s.startswith("b:"):
        return bytes.fromhex(s[2:]).decode("latin-1")
    return s


# ---- content streams ----

TOKEN = re.compile(rb"\s+|%[^\r\n]*|\((?:\\.|[^\\()])*\)|<<|>>|<[0-9A-Fa-f\s]*>|\[|\]|/[^\s/<>\[\]()%{}]*|"
                   rb"[+-]?(?:\d+\.?\d*|\.\d+)|[A-Za-z'\"*]+|\{|\}")
PAINT = {b"TJ", b"Tj", b"'", b'"', b"Do", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"S", b"s", b"sh"}


def content_marks(data, kinds=None):
    """Marked content of one page stream: the MCIDs in order, and the problems found. kinds (a list) gets each
    artifact's type: "Pagination/Header", "Pagination/Footer", "Pagination", "Layout", or "untyped"."""
    problems, mcids, stack, operands = [], [], [], []
    depth_q = depth_bt = 0
    for m in TOKEN.finditer(data):
        t = m.group(0)
        if t[:1].isspace() or t[:1] == b"%":
            continue
        if re.fullmatch(rb"[A-Za-z'\"*]+", t) and t not in (b"true", b"false", b"null"):
            op = t
            if op == b"q":
                depth_q += 1
            elif op == b"Q":
                depth_q -= 1
            elif op == b"BT":
                depth_bt += 1
            elif op == b"ET":
                depth_bt -= 1
            elif op in (b"BDC", b"BMC"):
                tag = operands[0] if operands else b"?"
                mcid = None
                if op == b"BDC":
                    props = b" ".join(operands[1:])
                    mm = re.search(rb"/MCID\s+(\d+)", props)
                    mcid = int(mm.group(1)) if mm else None
                if tag == b"/Artifact" and kinds is not None:
                    props = b" ".join(operands[1:]) if op == b"BDC" else b""
                    ty = re.search(rb"/Type\s*/(\w+)", props)
                    sub = re.search(rb"/Subtype\s*/(\w+)", props)
                    kinds.append("untyped" if not ty else ty.group(1).decode() +
                                 ("/" + sub.group(1).decode() if sub else ""))
                if mcid is not None:
                    if any(s[1] is not None for s in stack):
                        problems.append("MCID %d inside another MCID's sequence" % mcid)
                    mcids.append(mcid)
                stack.append((tag, mcid, depth_q, depth_bt))
            elif op == b"EMC":
                if not stack:
                    problems.append("EMC without BDC/BMC")
                else:
                    tag, mcid, dq, db = stack.pop()
                    if mcid is not None and (dq, db) != (depth_q, depth_bt):
                        problems.append("MCID %d straddles q/Q or BT/ET" % mcid)
            elif op in PAINT:
                if not any(s[1] is not None or s[0] == b"/Artifact" for s in stack):
                    problems.append("%s outside any tag or artifact" % op.decode())
            operands = []
        else:
            operands.append(t)
    if stack:
        problems.append("%d marked-content sequences left open" % len(stack))
    if len(set(mcids)) != len(mcids):
        problems.append("an MCID used twice")
    return mcids, problems


# ---- poppler's view of the tree ----

def struct_text(path):
    """pdfinfo -struct-text as a tree: [role, [kids...]] where a kid is a node or a text string."""
    out = subprocess.run(["pdfinfo", "-struct-text", path], capture_output=True).stdout.decode("utf-8", "replace")
    root = ["", []]
    stack = [(-1, root)]
    for line in out.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        body = line.strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if body.startswith('"') and body.endswith('"') and len(body) >= 2:
            parent[1].append(body[1:-1])
        elif body.startswith("Object "):  # an OBJR: "Object 17 0", kept as "17 0 R"
            parent[1].append(["Object", [], body[len("Object "):] + " R"])
        elif not body.startswith("/"):  # "/Scope /Row": an attribute of the element above
            node = [body.split(" ")[0].rstrip(":"), []]
            parent[1].append(node)
            stack.append((indent, node))
    return root


def nodes(tree, role=None):
    for k in tree[1]:
        if isinstance(k, list):
            if role is None or k[0] == role:
                yield k
            yield from nodes(k, role)


RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_W = r"’?[0-9A-Za-z\u0660-\u0669\u06f0-\u06f9](?:[0-9A-Za-z\u0660-\u0669\u06f0-\u06f9./:@’'-]*[0-9A-Za-z\u0660-\u0669\u06f0-\u06f9])?’?"
LTR_RUN = re.compile(_W + "(?: " + _W + ")*")  # Latin words and numbers, a space apart


RTL_DOCUMENT = False  # set for a right-to-left document: its lines are right-to-left paragraphs


def logical(s):
    """A marked-content text as poppler reads it (glyphs in drawing order) back in logical order: a right-to-left
    piece reversed, numbers and Latin words inside it kept as they are. In a right-to-left document a Latin piece
    is one too (a line "Scheme)" of a wrapped heading is drawn ")Scheme")."""
    if not RTL.search(s) and not (RTL_DOCUMENT and RTL.search(s) is None and re.search(r"[^\w\s]", s)):
        return s
    r = s[::-1]
    return LTR_RUN.sub(lambda m: m.group(0)[::-1], r)


def element_text(node, read=logical):
    return "".join(read(k) if isinstance(k, str) else element_text(k, read) for k in node[1])


def norm(s):
    s = "".join(ch for ch in s if ch not in "\u200b\u200c\u200e\u200f\u2066\u2067\u2068\u2069\u00ad")
    s = unicodedata.normalize("NFC", s)
    return re.sub(r"\s+", " ", s).strip()


def main(argv):
    lang = ref = None
    booklet = letter = False
    span_langs = []
    pdfjs = pdfjs_links = None
    uris, english = [], []
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--lang", "--ref", "--span-lang", "--pdfjs", "--pdfjs-links", "--uri", "--english"):
            if a == "--lang":
                lang = argv[i + 1]
                global RTL_DOCUMENT
                RTL_DOCUMENT = lang.split("-")[0] in ("ar", "fa", "ur")
            elif a == "--ref":
                ref = argv[i + 1]
            elif a == "--pdfjs":
                pdfjs = json.loads(argv[i + 1])
            elif a == "--pdfjs-links":
                pdfjs_links = json.loads(argv[i + 1])
            elif a == "--uri":
                uris.append(argv[i + 1])
            elif a == "--english":
                english.append(argv[i + 1])
            else:
                span_langs.append(argv[i + 1])
            i += 2
            continue
        if a == "--booklet":
            booklet = True
        elif a == "--letter":
            letter = True
        else:
            args.append(a)
        i += 1
    label, path = args
    objs = qpdf_json(path)
    trailer = objs["trailer"]["value"]
    catalog = value(objs, trailer["/Root"])
    info = value(objs, trailer.get("/Info")) if trailer.get("/Info") else {}

    # Catalog.
    check("catalog MarkInfo", (catalog.get("/MarkInfo") or {}).get("/Marked") is True)
    check("catalog Lang", lang is None or text_string(catalog.get("/Lang")) == lang,
          "Lang %r" % catalog.get("/Lang"))
    check("catalog DisplayDocTitle", (catalog.get("/ViewerPreferences") or {}).get("/DisplayDocTitle") is True)
    xmp_ok, why = False, "no /Metadata"
    if catalog.get("/Metadata"):
        st = stream(objs, catalog["/Metadata"])
        raw = base64.b64decode(st.get("data", "")).decode("utf-8", "replace")
        title = text_string(info.get("/Title", "")) if info else ""
        xmp_ok = ("<pdfuaid:part>1</pdfuaid:part>" in raw and "/Filter" not in st["dict"] and
                  (lang is None or "<rdf:li>%s</rdf:li>" % lang in raw) and
                  (not title or title.replace("&", "&amp;").replace("<", "&lt;") in raw))
        why = "XMP: %s" % raw[:300].replace("\n", " ")
    check("XMP metadata (pdfuaid:part 1, dc:language, dc:title)", xmp_ok, why)
    root = value(objs, catalog.get("/StructTreeRoot"))
    check("StructTreeRoot", isinstance(root, dict) and root.get("/Type") == "/StructTreeRoot")
    if not isinstance(root, dict):
        return report(label)

    # Pages, their content and the parent tree.
    pages = []
    node = value(objs, catalog["/Pages"])

    def walk(n, ref):
        if n.get("/Type") == "/Pages":
            for k in n["/Kids"]:
                walk(value(objs, k), k)
        else:
            pages.append((ref, n))
    walk(node, catalog["/Pages"])
    nums = value(objs, root["/ParentTree"])["/Nums"]
    parent_tree = {nums[i]: nums[i + 1] for i in range(0, len(nums), 2)}
    # Every element's MCRs and OBJRs: (page ref, mcid) -> element ref.
    mcr_owner, objr_owner, elements = {}, {}, {}

    def walk_elem(ref, inherited_page):
        el = value(objs, ref)
        elements[ref] = el
        pg = el.get("/Pg", inherited_page)
        kids = el.get("/K", [])
        kids = kids if isinstance(kids, list) else [kids]
        for k in kids:
            if isinstance(k, int):
                mcr_owner[(pg, k)] = ref
            elif isinstance(k, str) and k.endswith(" R"):
                walk_elem(k, pg)
            elif isinstance(k, dict) and k.get("/Type") == "/MCR":
                mcr_owner[(k.get("/Pg", pg), k["/MCID"])] = ref
            elif isinstance(k, dict) and k.get("/Type") == "/OBJR":
                objr_owner[k["/Obj"]] = ref
    k = root["/K"]
    for r in (k if isinstance(k, list) else [k]):
        walk_elem(r, None)
    bad_pages, content_problems, mcid_count, artifact_pages = [], [], 0, 0
    all_annots = {}
    page_artifacts = []  # per page, its artifacts' types
    for index, (page_ref, page) in enumerate(pages):
        if page.get("/StructParents") != index:
            bad_pages.append("page %d: StructParents %r" % (index + 1, page.get("/StructParents")))
            continue
        contents = page.get("/Contents")
        refs = contents if isinstance(contents, list) else [contents]
        data = b"".join(base64.b64decode(stream(objs, r).get("data", "")) for r in refs)
        kinds = []
        mcids, problems = content_marks(data, kinds)
        page_artifacts.append(kinds)
        content_problems += ["page %d: %s" % (index + 1, p) for p in problems]
        artifact_pages += b"/Artifact" in data
        mcid_count += len(mcids)
        arr = parent_tree.get(index, [])
        for m in mcids:
            owner = mcr_owner.get((page_ref, m))
            if owner is None:
                bad_pages.append("page %d: MCID %d is in no element" % (index + 1, m))
            elif m >= len(arr) or arr[m] != owner:
                bad_pages.append("page %d: MCID %d: parent tree says %r, the tree %r" %
                                 (index + 1, m, arr[m] if m < len(arr) else None, owner))
        for (pg, m) in mcr_owner:
            if pg == page_ref and m not in mcids:
                bad_pages.append("page %d: the tree refers to MCID %d, which the page lacks" % (index + 1, m))
        annots = [value(objs, a) for a in page.get("/Annots", [])]
        annot_refs = page.get("/Annots", [])
        all_annots.update(zip(annot_refs, annots))
        if annots and page.get("/Tabs") != "/S":
            bad_pages.append("page %d: annotations but no /Tabs /S" % (index + 1))
        for aref, a in zip(annot_refs, annots):
            if a.get("/Subtype") != "/Link":
                continue
            owner = objr_owner.get(aref)
            sp = a.get("/StructParent")
            if owner is None or elements[owner].get("/S") != "/Link" or parent_tree.get(sp) != owner or \
                    not a.get("/Contents"):
                bad_pages.append("page %d: link %s not in a Link element (OBJR, StructParent, Contents)" %
                                 (index + 1, aref))
    check("StructParents and parent tree on every page", not bad_pages, "; ".join(bad_pages[:5]))
    check("all page content tagged or artifact, marked content balanced and innermost", not content_problems,
          "; ".join(content_problems[:5]))
    furnished = letter or booklet  # a letter or booklet has a footer on every page and the force's logo
    check("page furniture as artifacts on every page", not furnished or artifact_pages == len(pages),
          "%d of %d pages" % (artifact_pages, len(pages)))
    # Artifacts typed: the running footer on every page and header on every page after the first as Pagination
    # (Footer, Header), rules and backgrounds as Layout; none untyped.
    untyped = sum(k.count("untyped") for k in page_artifacts)
    footers = sum("Pagination/Footer" in k for k in page_artifacts)
    headers = sum("Pagination/Header" in k for k in page_artifacts[1:])
    layout = sum("Layout" in k for k in page_artifacts)
    print("INFO tagged %s: artifacts %r" % (label, {t: sum(k.count(t) for k in page_artifacts)
                                                   for t in sorted({t for k in page_artifacts for t in k})}))
    check("artifacts typed (Pagination Header/Footer, Layout), the running footer and header on every page",
          not untyped and (not furnished or (footers == len(pages) and headers == len(pages) - 1 and layout)),
          "%d untyped, footers on %d, headers on %d, layout on %d of %d pages" %
          (untyped, footers, headers, layout, len(pages)))
    print("INFO tagged %s: %d pages, %d elements, %d MCIDs, %d link annotations in Link elements" %
          (label, len(pages), len(elements), mcid_count, len(objr_owner)))

    if pdfjs is not None:
        # pdf.js (Firefox's accessibility layer): a tree on every page, reaching every MCID, the logo's alt.
        check("pdf.js: structure tree on every page, every MCID reached, the figure's alt",
              pdfjs["pagesWithTree"] == len(pages) and pdfjs["contentRefs"] == mcid_count and
              (not furnished or pdfjs["alts"]) and all(pdfjs["alts"]), "pdf.js %r; pages %d, MCIDs %d" % (pdfjs, len(pages), mcid_count))
    figures = [e for e in elements.values() if e.get("/S") == "/Figure"]
    check("Figure with Alt", (figures or not furnished) and all(text_string(f.get("/Alt", "")).strip() for f in figures),
          "%d figures, alts %r" % (len(figures), [f.get("/Alt") for f in figures]))

    def bbox_ok(f):  # /A << /O /Layout /BBox [l b r t] >> inside its page
        a = value(objs, f.get("/A")) if f.get("/A") else {}
        box = value(objs, a.get("/BBox")) if isinstance(a, dict) else None
        page = value(objs, f.get("/Pg")) if f.get("/Pg") else {}
        media = page.get("/MediaBox", [0, 0, 0, 0])
        return (isinstance(a, dict) and a.get("/O") == "/Layout" and isinstance(box, list) and len(box) == 4 and
                0 <= box[0] < box[2] <= media[2] and 0 <= box[1] < box[3] <= media[3])
    check("Figure with /BBox (attribute object /O /Layout) on its page", all(bbox_ok(f) for f in figures),
          "attributes %r" % [f.get("/A") for f in figures])
    langs = [text_string(e.get("/Lang")) for e in elements.values() if e.get("/Lang")]
    for tag in span_langs:
        spans = [e for e in elements.values() if e.get("/S") == "/Span" and text_string(e.get("/Lang")) == tag]
        check("Span /Lang %s" % tag, spans, "Lang values %r" % sorted(set(langs)))

    # Poppler's reading of the tree.
    tree = struct_text(path)
    everything = norm(element_text(tree, read=lambda s: s))
    doc = next(nodes(tree, "Document"), None)
    check("Document root", doc is not None)
    if ref:
        check("crime reference intact in the structure text", ref in everything)
    if lang == "en":
        check("footer not in the tree", not re.search(r"Page \d+ of \d+", everything))

    # English text in another language's document: poppler's tree (text) and qpdf's (/Lang) walked side by side.
    if english:
        order = []

        def walk_order(ref, lang):
            el = value(objs, ref)
            lang = text_string(el.get("/Lang")) if el.get("/Lang") else lang
            order.append(lang)
            kids = el.get("/K", [])
            for k in (kids if isinstance(kids, list) else [kids]):
                if isinstance(k, str) and k.endswith(" R") and value(objs, k).get("/Type") != "/OBJR":
                    walk_order(k, lang)
        for r in (root["/K"] if isinstance(root["/K"], list) else [root["/K"]]):
            walk_order(r, lang)
        popp = [n for n in nodes(tree) if n[0] != "Object"]
        english_text = ""
        if len(popp) == len(order):
            for n, lg in zip(popp, order):
                own = "".join(k for k in n[1] if isinstance(k, str))
                if lg and lg.split("-")[0] == "en" and own:
                    english_text += own
        for t in english:
            want = re.sub(r"\s", "", t)
            found = any(want in re.sub(r"\s", "", norm(read(english_text))) for read in (logical, lambda s: s))
            check("English text read as English (/Lang en): %s..." % t[:30], found,
                  "%d elements in poppler's tree, %d in qpdf's; English text %r" % (len(popp), len(order),
                                                                                   english_text[:200]))

    # Links: an address link opens what its Link element's text spells; a go-to link, a place on a page.
    page_index = {ref: i + 1 for i, (ref, _) in enumerate(pages)}

    def uri_of(a):
        action = value(objs, a.get("/A")) if a.get("/A") else None
        return text_string(action.get("/URI")) if isinstance(action, dict) and action.get("/S") == "/URI" else None

    def dest_of(a):
        d = value(objs, a.get("/Dest")) if a.get("/Dest") else None
        return (page_index.get(d[0]), round(d[3], 2)) if isinstance(d, list) and len(d) == 5 else None

    def normal_uri(u):  # pdf.js gives https://gov.uk as https://gov.uk/
        s = urlsplit(u)
        return s._replace(path=s.path or "/").geturl() if s.scheme in ("http", "https") else u

    def link_objects(node):
        return [k[2] for k in node[1] if isinstance(k, list) and k[0] == "Object"]

    def with_parents(node):
        for k in node[1]:
            if isinstance(k, list):
                yield k, node
                yield from with_parents(k)

    # A link in a line that PDFium must read as one (right-to-left text) has its text there in its paragraph's
    # marked content, its Link element its annotation (and its text on other lines): its paragraph's text must
    # then hold the rest of the address.
    wrong, opened, uri_links, in_parent = [], set(), 0, 0
    for ln, parent in with_parents(tree):
        if ln[0] != "Link":
            continue
        spelt = {re.sub(r"\s", "", norm(element_text(ln, read=r))) for r in (logical, lambda s: s)}
        around = {re.sub(r"\s", "", norm(element_text(parent, read=r))) for r in (logical, lambda s: s)}
        for o in link_objects(ln):
            uri = uri_of(all_annots.get(o, {}))
            if uri is None:
                continue
            uri_links += 1
            opened.add(uri)
            if any(normal_uri(uri) in (normal_uri(t), normal_uri("https://" + t), "mailto:" + t) for t in spelt):
                continue
            # Its text (none, or the part on a line of its own) in its paragraph's, which spells the address.
            address = re.sub(r"^(https?://|mailto:)", "", uri)
            if any(t in address and address.replace(t, "", 1) in a for t in spelt for a in around):
                in_parent += 1
            else:
                wrong.append("%s opens %r, its text is %r" % (o, uri, sorted(spelt)))
    print("INFO tagged %s: %d address links with their text in their paragraph's marked content (a line read as one)"
          % (label, in_parent))
    all_uris = [a for a in all_annots.values() if a.get("/Subtype") == "/Link" and uri_of(a)]
    print("INFO tagged %s: %d address links (%d distinct), each opening what its Link element's text spells: %s" %
          (label, uri_links, len(opened), not wrong))
    check("address links open what their text spells (https://, mailto:), every one in a Link element",
          not wrong and uri_links == len(all_uris), "; ".join(wrong[:3]) or "%d of %d" % (uri_links, len(all_uris)))
    for u in uris:
        check("a link opens %s" % u, u in opened, "links open %r" % sorted(opened))
    if pdfjs_links is not None:
        mismatch = []
        for pl in pdfjs_links:
            a = all_annots.get(pl["id"][:-1] + " 0 R", {})
            if pl["url"] is not None and normal_uri(pl["url"]) != normal_uri(uri_of(a) or ""):
                mismatch.append("%s: pdf.js opens %r, the PDF says %r" % (pl["id"], pl["url"], uri_of(a)))
            elif pl["url"] is None and (pl["destPage"], round(pl["destTop"] or 0, 2)) != dest_of(a):
                mismatch.append("%s: pdf.js goes to %r, the PDF says %r" % (pl["id"], pl, dest_of(a)))
        check("pdf.js opens every link where the PDF says (URI, page and top)",
              not mismatch and len(pdfjs_links) == sum(a.get("/Subtype") == "/Link" for a in all_annots.values()),
              "; ".join(mismatch[:3]) or "pdf.js %d links" % len(pdfjs_links))
    if letter:
        tables = list(nodes(tree, "Table"))
        rows = [r for t in tables for r in t[1] if isinstance(r, list)]
        ok = tables and all(r[0] == "TR" and [c[0] for c in r[1] if isinstance(c, list)] == ["TH", "TD"] for r in rows)
        check("summary table as Table/TR/TH+TD", ok, "%d tables, rows %r" % (len(tables), [r[1] for r in rows][:2]))
        # The label cells head their rows: /Scope /Row.
        heads = [e for e in elements.values() if e.get("/S") == "/TH"]
        check("summary table's labels are TH with /Scope /Row", heads and
              all((e.get("/A") or {}).get("/Scope") == "/Row" and (e.get("/A") or {}).get("/O") == "/Table"
                  for e in heads), "%d TH" % len(heads))
        h1 = [norm(element_text(h)) for h in nodes(tree, "H1")]
        title = norm(text_string(info.get("/Title", "")))
        check("letter heading H1 in logical order", h1 and h1[0] == title, "H1 %r, title %r" % (h1[:1], title))
    if booklet:
        # The bookmarked headings, in order, as H1/H2.
        outline = value(objs, catalog["/Outlines"])
        titles = []

        def walk_outline(ref):
            while ref:
                o = value(objs, ref)
                titles.append(norm(text_string(o["/Title"])))
                if o.get("/First"):
                    walk_outline(o["/First"])
                ref = o.get("/Next")
        walk_outline(outline.get("/First"))
        # Compared without spaces: a line's last space is not drawn, and poppler joins lines without one.
        titles = [re.sub(r"\s", "", t) for t in titles]
        heads = [re.sub(r"\s", "", norm(element_text(h))) for h in nodes(tree) if h[0] in ("H1", "H2")]
        found = [t for t in titles if t in heads]
        in_order = [h for h in heads if h in titles] == titles
        print("INFO tagged %s: %d of %d bookmarked headings read back from the tree as H1/H2, in order: %s" %
              (label, len(found), len(titles), in_order))
        check("headings H1/H2 in order, as the bookmarks", titles and len(found) == len(titles) and in_order,
              "missing %r" % [t for t in titles if t not in heads][:3])
        items = list(nodes(tree, "LI"))
        ok = items and all([k[0] for k in li[1] if isinstance(k, list)] == ["Lbl", "LBody"] and
                           norm(element_text(li[1][0])) for li in items)
        check("list items as LI = Lbl + LBody", ok, "%d items" % len(items))
        toc = list(nodes(tree, "TOCI"))
        check("contents as TOC/TOCI", len(toc) >= sum(1 for h in nodes(tree, "H1")) - 1,
              "%d entries" % len(toc))
        # Each entry is one Link (title and page number) going where its heading's bookmark goes.
        top, ref = [], outline.get("/First")
        while ref:
            o = value(objs, ref)
            top.append(dest_of(o))
            ref = o.get("/Next")
        goes = []
        for t in toc:
            links = [k for k in t[1] if isinstance(k, list) and k[0] == "Link"]
            dests = {dest_of(all_annots.get(o, {})) for ln in links for o in link_objects(ln)}
            goes.append(dests.pop() if len(links) == 1 and len(dests) == 1 else None)
        check("each contents entry a Link going to its heading (as the bookmarks)", goes == top and None not in goes,
              "entries go to %r, bookmarks %r" % (goes[:4], top[:4]))
        # Each numbered section a Sect, its heading first.
        sects = list(nodes(tree, "Sect"))
        firsts = [next((k[0] for k in s[1] if isinstance(k, list)), None) for s in sects]
        check("numbered sections as Sect, each holding its H1 and content",
              sects and len(sects) == len(top) and all(f == "H1" for f in firsts) and
              all(sum(isinstance(k, list) for k in s[1]) > 1 for s in sects),
              "%d Sect for %d sections, first kids %r" % (len(sects), len(top), firsts[:4]))
    return report(label)


def report(label):
    failed = 0
    for name, ok, why in results:
        if ok:
            print("PASS tagged %s: %s" % (label, name))
        else:
            failed += 1
            print("FAIL tagged %s: %s: %s" % (label, name, why))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
