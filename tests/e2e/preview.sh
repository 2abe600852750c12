#!/usr/bin/env bash
# vipgen preview: every unit printed somewhere or listed as unused; each unit's place is where pdftotext finds its
# text in the PDF; the page pictures (read back by Python's zlib) carry the colour of each unit's state at its
# place — orange for an English fallback, blue for a change since the baseline, purple for a unit wider than its
# place (vipgen check's shaped width); links from the index land on the
# unit's place; bad catalogues (not XML, another language) are one clear error, never a preview in another language.
. "$(dirname "$0")/lib.sh"

py=/usr/bin/python3
cat=$tmp/fa.xlf
cp translations/fa.xlf "$cat"
# A changed unit (with a marker pdftotext can find) and one with its translation removed (English fallback).
$py - "$cat" <<'EOF'
import re, sys
path = sys.argv[1]
s = open(path, encoding='utf-8').read()
def target(unit, text):
    global s
    m = re.search(r'(<unit id="%s"[^>]*>.*?<target>)(.*?)(</target>)' % re.escape(unit), s, re.S)
    s = s[:m.start(2)] + text + s[m.end(2):]
target('letter.thanks', 'از گزارش شما سپاسگزاریم ZEBRA42.')
target('letter.subject', '')
target('letter.glance.offence_date', 'تاریخ وقوع جرم گزارش‌شده توسط شما به پلیس نورث‌شایر')  # too long for its cell
open(path, 'w', encoding='utf-8').write(s)
EOF

"$vipgen" preview --lang fa --catalog "$cat" --baseline translations/fa.xlf -o "$tmp/out" >"$tmp/stdout" 2>"$tmp/err"
rc=$?
check "preview runs" "[ $rc -eq 0 ]" "exit $rc: $(tail -3 "$tmp/err")"
check "preview says what it made" "grep -q 'index.html: 13 documents' '$tmp/stdout'" "$(cat "$tmp/stdout")"

$py - "$tmp/out" <<'EOF'
import html.parser, json, os, re, struct, subprocess, sys, zlib
out = sys.argv[1]
def result(name, ok, why=''):
    print(('PASS %s' % name) if ok else ('FAIL %s: %s' % (name, why)))
data = json.load(open(os.path.join(out, 'units.json'), encoding='utf-8'))
units = {u['id']: u for u in data['units']}
docs = {d['name']: d for d in data['documents']}
index = open(os.path.join(out, 'index.html'), encoding='utf-8').read()

result('12 letter variants and the booklet', len(docs) == 13 and 'booklet' in docs, sorted(docs))
document_units = [i for i in units if re.match(r'(letter|booklet|offence|needs|referral|enhanced)\.', i)]
unprinted = [i for i in document_units if units[i]['printed'] == 0]
result('every letter, booklet and code unit printed in some variant (%d units)' % len(document_units),
       not unprinted, unprinted)
unused = [i for i, u in units.items() if u['printed'] == 0]
head, _, unused_part = index.partition('id="unused"')
result('units printed nowhere are listed as unused (%d)' % len(unused),
       all('id="unit-%s"' % i in unused_part for i in unused), unused)
result('every printed unit has its row with a link to its place',
       all('id="unit-%s"' % i in head for i, u in units.items() if u['printed']))
result('states: fallback, changed, untouched',
       units['letter.subject']['status'] == 'fallback' and units['letter.thanks']['changed'] and
       not units['letter.title']['changed'] and units['letter.title']['status'] == 'translated',
       (units['letter.subject']['status'], units['letter.thanks']['changed'], units['letter.title']))
result('check problems attached to the fallback unit', units['letter.subject']['problems'] >= 1,
       units['letter.subject'])

# Where the unit is printed is where its text is: pdftotext reads that rectangle of the PDF.
def text_at(place):
    pdf = os.path.join(out, place['document'] + '.pdf')
    args = ['pdftotext', '-f', str(place['page']), '-l', str(place['page']), '-r', '72',
            '-x', str(int(place['x']) - 2), '-y', str(int(place['y']) - 2), '-W', str(int(place['width']) + 4),
            '-H', str(int(place['height']) + 4), pdf, '-']
    return subprocess.run(args, capture_output=True, text=True).stdout
thanks = units['letter.thanks']['places']
result("letter.thanks's place holds its text in every variant it is shown for",
       thanks and all('ZEBRA42' in text_at(p) for p in thanks), [text_at(p) for p in thanks[:2]])
other = units['letter.title']['places'][0]
result('and not in the place of another unit', 'ZEBRA42' not in text_at(other), text_at(other))

# The page pictures: PNG decoded here (zlib and the PNG filters), colours looked up at each unit's outline.
def read_png(path):
    b = open(path, 'rb').read()
    assert b[:8] == b'\x89PNG\r\n\x1a\n'
    pos, idat, w = 8, b'', 0
    while pos < len(b):
        n, kind = struct.unpack('>I4s', b[pos:pos + 8])
        body = b[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype == 2
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * 3, [], bytearray(w * 3)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            c = prev[i - 3] if i >= 3 else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + prev[i]) & 255
            elif f == 3: line[i] = (line[i] + ((a + prev[i]) >> 1)) & 255
            elif f == 4:
                p = a + prev[i] - c
                pa, pb, pc = abs(p - a), abs(p - prev[i]), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else prev[i] if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows
def colours_around(place, scale=1.5):
    w, h, rows = read_png(os.path.join(out, '%s-p%d.png' % (place['document'], place['page'])))
    seen = set()
    x0, x1 = int(place['x'] * scale), int((place['x'] + place['width']) * scale)
    for y in range(max(0, int((place['y'] - 4) * scale)), min(h, int((place['y'] + 2) * scale))):
        for x in range(max(0, x0), min(w, x1), 3):
            seen.add(tuple(rows[y][3 * x:3 * x + 3]))
    return w, h, seen
def has(seen, rgb):
    return any(all(abs(p[i] - rgb[i]) < 40 for i in range(3)) for p in seen)
w, h, seen = colours_around(units['letter.subject']['places'][0])
result('page picture is the A4 page at 1.5 px/pt (%dx%d)' % (w, h), (w, h) == (893, 1263), (w, h))
result('the fallback unit is outlined in orange', has(seen, (0xE0, 0x7B, 0x00)), sorted(seen)[:8])
w, h, seen = colours_around(units['letter.thanks']['places'][0])
result('the changed unit is outlined in blue', has(seen, (0x1D, 0x5F, 0xD6)), sorted(seen)[:8])
label = units['letter.glance.offence_date']
w, h, seen = colours_around(label['places'][0])
result('the unit too wide for its table cell is outlined in purple', label['overflow'] and
       has(seen, (0xA2, 0x1C, 0xAF)), (label['overflow'], sorted(seen)[:8]))
result('and its width problem listed in the index, in millimetres',
       re.search(r'unit <a href="#unit-letter.glance.offence_date"><code>[^<]*</code></a>: is [0-9.]+ mm wider than '
                 r'its table cell \([0-9.]+ mm\)[^[]*\[width\]', index) is not None)
w, h, seen = colours_around(units['letter.title']['places'][0])
result('an untouched unit is not', not has(seen, (0x1D, 0x5F, 0xD6)) and not has(seen, (0xE0, 0x7B, 0x00)) and
       not has(seen, (0xA2, 0x1C, 0xAF)))

# Every link of the index lands on a page that has the anchor it names.
class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'href' in a: self.hrefs.append(a['href'])
        if 'id' in a: self.ids.add(a['id'])
def parse(name):
    p = Links()
    p.feed(open(os.path.join(out, name), encoding='utf-8').read())
    return p
idx, broken, pages = parse('index.html'), [], {}
for href in idx.hrefs:
    name, _, frag = href.partition('#')
    if not name:
        ok = frag in idx.ids
    else:
        if not name.endswith('.html'):
            ok = os.path.exists(os.path.join(out, name))
        else:
            if name not in pages:
                pages[name] = parse(name) if os.path.exists(os.path.join(out, name)) else None
            ok = pages[name] is not None and (not frag or frag in pages[name].ids)
    if not ok: broken.append(href)
result('every link in the index lands on its page and place (%d links)' % len(idx.hrefs), not broken, broken[:5])
result('pages of a right-to-left language listed right to left', 'class="pages" dir="rtl"' in index)
result('no resource from elsewhere (no CDN)', not re.search(r'(src|href)="(https?:)?//', index))
EOF

# Bad input: one clear message naming the file; never a preview in another language.
printf 'this is not XML\n' >"$tmp/broken.xlf"
"$vipgen" preview --lang fa --catalog "$tmp/broken.xlf" -o "$tmp/bad" >/dev/null 2>"$tmp/err"
rc=$?
check "a catalogue that is not XML: an error naming it" "[ $rc -eq 1 ] && grep -q 'broken.xlf' '$tmp/err' && [ \$(wc -l <'$tmp/err') -le 2 ]" \
    "exit $rc: $(cat "$tmp/err")"
check "and the index says why" "grep -q 'could not be made' '$tmp/bad/index.html'" "no message in the index"
sed 's/trgLang="fa"/trgLang="ur"/' translations/fa.xlf >"$tmp/wrong.xlf"
"$vipgen" preview --lang fa --catalog "$tmp/wrong.xlf" -o "$tmp/wrong" >/dev/null 2>"$tmp/err"
rc=$?
check "a catalogue in another language is refused" "[ $rc -eq 1 ] && grep -q 'in ur (trgLang), not fa' '$tmp/err'" \
    "exit $rc: $(cat "$tmp/err")"
check "and no page of it is made" "! ls '$tmp/wrong' | grep -q png" "$(ls "$tmp/wrong")"
"$vipgen" preview -o "$tmp/x" >/dev/null 2>&1
check "preview without --lang is a usage error" "[ $? -eq 2 ]" "wrong exit code"
