#!/usr/bin/env bash
# The booklet an officer hands over: the "your case" panel's values (crime reference, officer, phone, email) come
# back from the PDF in every language, in the three engines victims' viewers use (poppler's pdftotext, pdf.js and
# PDFium through tests/extract); without values the panel's boxes are empty, to write in; every booklet has an even
# number of pages, a padding page saying it is blank on purpose; bad values are refused naming the option, and
# nothing is written.
. "$(dirname "$0")/lib.sh"
ref=NC/2024/012350
officer="DC Imran Siddiqui"
phone="0300 555 0152"
email=imran.siddiqui@northshire.police.example
engines=0
tests/extract/install.sh >"$tmp/install.log" 2>&1 && engines=1
[ $engines = 1 ] || echo "INFO booklet: pdf.js and PDFium not installed ($(tail -n 1 "$tmp/install.log")); poppler only"
# (U+FFFE: PDFium's mark of a hyphen that ends a line inside a word, which Chrome leaves out; see tests/extract.)
squash() { tr -d '\n\r\f' | tr -s ' ' | perl -CS -pe 'no warnings; s/[\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}\x{FFFE}]//g'; }
for lang in en pl ro ar fa ur pa zh-Hans; do
    out="$tmp/booklet-$lang.pdf"
    "$vipgen" booklet --lang "$lang" -o "$out" --ref "$ref" --officer "$officer" --phone "$phone" --email "$email" 2>"$tmp/err"
    rc=$?
    check "booklet.$lang.written" "[ $rc -eq 0 ] && [ -s '$out' ]" "exit $rc: $(cat "$tmp/err")"
    pages=$(pdfinfo "$out" 2>/dev/null | sed -n 's/^Pages: *//p')
    check "booklet.$lang.even_pages" "[ -n '$pages' ] && [ \$(( ${pages:-1} % 2 )) -eq 0 ]" "$pages pages"
    pdftotext -l 1 "$out" - 2>/dev/null | squash >"$tmp/poppler"
    texts=(poppler)
    if [ $engines = 1 ]; then
        for e in pdfjs pdfium; do
            node tests/extract/extract.mjs "$e" "$out" 2>/dev/null | awk 'BEGIN { RS = "\f" } NR == 1' | squash >"$tmp/$e"
            texts+=("$e")
        done
    fi
    for e in "${texts[@]}"; do
        for v in "$ref" "$officer" "$phone" "$email"; do
            check "booklet.$lang.$e.panel: $v" "grep -aqF -- '$v' '$tmp/$e'" "$(head -c 300 "$tmp/$e")"
        done
    done
done

# Without values: the same panel, empty boxes to write in; the page count still even, a blank page where needed.
for lang in en ar zh-Hans; do
    out="$tmp/plain-$lang.pdf"
    "$vipgen" booklet --lang "$lang" -o "$out" 2>"$tmp/err"
    pages=$(pdfinfo "$out" 2>/dev/null | sed -n 's/^Pages: *//p')
    check "booklet.$lang.plain_even" "[ -n '$pages' ] && [ \$(( ${pages:-1} % 2 )) -eq 0 ]" "$pages pages: $(cat "$tmp/err")"
    check "booklet.$lang.plain_no_values" "! pdftotext -l 1 '$out' - | grep -q '$ref'" "a reference on a booklet given none"
done
# A booklet that ends on an odd page is padded with a page that says it is blank on purpose, in its language.
padded=0
for lang in en pl ro ar fa ur pa zh-Hans; do
    last=$(pdftotext -f "$(pdfinfo "$tmp/booklet-$lang.pdf" | sed -n 's/^Pages: *//p')" "$tmp/booklet-$lang.pdf" - 2>/dev/null | squash)
    blank=$(xmllint --xpath "string(//*[local-name()='unit'][@id='common.blank_page']//*[local-name()='target'])" "translations/$lang.xlf")
    if printf '%s' "$last" | grep -aqF -- "$blank"; then padded=$((padded + 1)); fi
done
echo "INFO booklet: $padded of 8 booklets end on a page left blank on purpose"
pdfs_blank_ok=1
for lang in en pl ro ar fa ur pa zh-Hans; do
    pages=$(pdfinfo "$tmp/booklet-$lang.pdf" | sed -n 's/^Pages: *//p')
    blank=$(xmllint --xpath "string(//*[local-name()='unit'][@id='common.blank_page']//*[local-name()='target'])" "translations/$lang.xlf")
    # the message appears only on the last page, and only when padding was needed
    n=$(pdftotext "$tmp/booklet-$lang.pdf" - 2>/dev/null | squash | grep -aoF -- "$blank" | wc -l)
    [ "$n" -le 1 ] || pdfs_blank_ok=0
done
check booklet.blank_page_at_most_once "[ $pdfs_blank_ok = 1 ]" "the blank-page line appears more than once"

# Bad values: a clear error naming the option, nothing written.
bad() { # name pattern args...
    local name=$1 pattern=$2
    shift 2
    "$vipgen" booklet --lang en -o "$tmp/bad.pdf" "$@" 2>"$tmp/err"
    local rc=$?
    check "booklet.bad.$name" "[ $rc -eq 2 ] && grep -q -- '$pattern' '$tmp/err' && [ ! -e '$tmp/bad.pdf' ]" "exit $rc: $(cat "$tmp/err")"
}
bad ref "--ref: the value \"not a ref!\" is not a crime reference" --ref "not a ref!"
bad officer_500 "--officer: the value is 500 characters long; at most 300" --officer "$(printf 'A%.0s' $(seq 1 500))"
bad phone "--phone: the value has 3 digits" --phone 101
bad email "--email: the value is not an email address" --email officer.example.org

# --print a5-booklet: A5 pages imposed two to a landscape A4 sheet in saddle-stitch order (bound on the right in
# right-to-left languages): each half of each sheet shows the page the fold puts there, by its "Page N of M" footer.
"$vipgen" booklet --lang en -o "$tmp/a5.pdf" --print a5-booklet 2>"$tmp/err"
rc=$?
check booklet.a5.written "[ $rc -eq 0 ] && qpdf --check '$tmp/a5.pdf' >/dev/null 2>&1" "exit $rc: $(cat "$tmp/err")"
sides=$(pdfinfo "$tmp/a5.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
size=$(pdfinfo "$tmp/a5.pdf" 2>/dev/null | sed -n 's/^Page size: *\([0-9.]*\) x \([0-9.]*\).*/\1 \2/p')
check booklet.a5.landscape_a4_sheets "[ '$size' = '841.89 595.28' ] && [ \$(( ${sides:-1} % 2 )) -eq 0 ]" "$sides sides of $size"
total=$(pdftotext -f 2 -l 2 -x 421 -y 0 -W 421 -H 596 "$tmp/a5.pdf" - 2>/dev/null | sed -n 's/.*Page [0-9]* of \([0-9]*\).*/\1/p' | head -n 1)
n=$(( (${total:-0} + 3) / 4 * 4 ))
order_ok=1
detail=""
for s in $(seq 0 $((n / 4 - 1))); do
    # front: n-2s (left), 2s+1 (right); back: 2s+2 (left), n-2s-1 (right); pages past the last are blank
    set -- $((n - 2 * s)) $((2 * s + 1)) $((2 * s + 2)) $((n - 2 * s - 1))
    for half in 0 1 2 3; do
        side=$((2 * s + half / 2 + 1))
        x=$(( (half % 2) * 421 ))
        want=$1
        shift
        got=$(pdftotext -f $side -l $side -x $x -y 0 -W 421 -H 596 "$tmp/a5.pdf" - 2>/dev/null | sed -n 's/.*Page \([0-9]*\) of.*/\1/p' | head -n 1)
        [ "$want" -gt "$total" ] && want=""
        if [ "$got" != "$want" ]; then order_ok=0; detail="$detail side $side half $((half % 2)): got '$got' want '$want';"; fi
    done
done
check booklet.a5.saddle_stitch_order "[ ${total:-0} -gt 0 ] && [ $order_ok = 1 ]" "$total pages:$detail"
pdftoppm -png -r 20 -f 1 -l 1 "$tmp/a5.pdf" "$tmp/a5-sheet" >/dev/null 2>&1
check booklet.a5.renders "[ -s '$tmp/a5-sheet-01.png' ] || [ -s '$tmp/a5-sheet-1.png' ]" "pdftoppm drew nothing"
"$vipgen" booklet --lang ar -o "$tmp/a5-ar.pdf" --print a5-booklet 2>"$tmp/err"
right=$(pdftotext -f 1 -l 1 -x 0 -y 0 -W 421 -H 596 "$tmp/a5-ar.pdf" - 2>/dev/null | tr -d '\n' | head -c 400)
cover=$(xmllint --xpath "string(//*[local-name()='unit'][@id='booklet.title']//*[local-name()='target'])" translations/ar.xlf)
check booklet.a5.rtl_bound_on_the_right "printf '%s' \"\$right\" | grep -qF -- \"\$cover\"" "left half of the first side: $right"
bad bad_print "--print: \"poster\" is not a way to print" --print poster

# --large-print: 16 pt Latin-equivalent body type in every language (mutool's structured text: the size most of the
# characters of the middle pages are set in).
for lang in en pl ar ur pa zh-Hans; do
    "$vipgen" booklet --lang "$lang" -o "$tmp/large-$lang.pdf" --large-print 2>"$tmp/err"
    body=$(for p in 5 6 7; do mutool draw -F stext -o - "$tmp/large-$lang.pdf" $p 2>/dev/null; done | /usr/bin/python3 -c '
import re, sys, collections
sizes = collections.Counter()
size = None
for line in sys.stdin:
    m = re.search(r"<font name=\"[^\"]*\" size=\"([0-9.]+)\"", line)
    if m: size = float(m.group(1))
    elif "<char " in line and size: sizes[round(size, 1)] += 1
print(sizes.most_common(1)[0][0] if sizes else 0)')
    check "booklet.large_print.$lang" "/usr/bin/python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 15.9 else 1)' '$body'" "body type $body pt: $(cat "$tmp/err")"
done

# Sections are numbered in headings, contents and bookmarks, and every cross-reference ("see section {s7}") names a
# section that exists: its number, in the language's digits, is a numbered bookmark's.
for lang in en pl ro ar fa ur pa zh-Hans; do
    f="$tmp/booklet-$lang.pdf"
    mutool show "$f" outline 2>/dev/null >"$tmp/outline"
    pdftotext "$f" - 2>/dev/null >"$tmp/text"
    /usr/bin/python3 - "$tmp/outline" "$tmp/text" "translations/$lang.xlf" >"$tmp/xref" 2>&1 <<'PY'
import re, sys, unicodedata
outline = open(sys.argv[1], encoding="utf-8").read().splitlines()
def number(s):
    m = re.match(r"\s*(\d+)\.", "".join(str(unicodedata.digit(ch)) if unicodedata.digit(ch, None) is not None else ch for ch in s))
    return int(m.group(1)) if m else None
# mutool: a top-level entry starts its line with its mark ("-", "+" or "|") and a tab; nested ones with two.
tops = [re.search(r'"(.*)"', l).group(1) for l in outline if re.match(r'^[-+|]\t"', l)]
nums = [number(t) for t in tops]
ok = nums == list(range(1, len(nums) + 1)) and len(nums) == 14
# the catalogue's cross-references: every {sN} a section that exists
refs = sorted({int(n) for n in re.findall(r"\{s(\d+)\}", open(sys.argv[3], encoding="utf-8").read())})
ok = ok and refs and all(1 <= r <= len(nums) for r in refs)
print("ok" if ok else f"bookmarks {nums}; references {refs}")
PY
    check "booklet.$lang.sections_numbered_and_referenced" "grep -qx ok '$tmp/xref'" "$(cat "$tmp/xref")"
done
check booklet.en.cross_reference_printed "grep -q 'Section 10 explains this' '$tmp/text' || pdftotext '$tmp/booklet-en.pdf' - | grep -q 'Section 10 explains this'" "no 'Section 10 explains this'"

# Print-ready: the contents on one page (the first section starts on page 3), and nothing drawn within 10 mm of the
# paper's edge, on any page of any booklet (pages drawn by poppler, in grey, at 72 dpi: the ink itself).
for lang in en pl ro ar fa ur pa zh-Hans; do
    f="$tmp/booklet-$lang.pdf"
    first=$(mutool show "$f" outline 2>/dev/null | sed -n '1s/.*#page=\([0-9]*\).*/\1/p')
    check "booklet.$lang.contents_one_page" "[ '$first' = 3 ]" "the first section is on page $first"
    rm -f "$tmp"/edge-*.pgm
    pdftoppm -gray -r 72 "$f" "$tmp/edge" 2>/dev/null
    worst=$(/usr/bin/python3 - "$tmp" <<'PY'
import glob, sys
margin = round(10 * 72 / 25.4)  # 10 mm in pixels at 72 dpi
worst = None
for path in sorted(glob.glob(sys.argv[1] + "/edge-*.pgm")):
    data = open(path, "rb").read()
    parts = data.split(maxsplit=4)
    w, h, body = int(parts[1]), int(parts[2]), parts[4]
    for y in range(h):
        row = body[y * w:(y + 1) * w]
        inner = margin <= y < h - margin
        for x in (range(w) if not inner else list(range(margin)) + list(range(w - margin, w))):
            if row[x] < 200:
                d = min(x, w - 1 - x, y, h - 1 - y)
                if worst is None or d < worst[0]:
                    worst = (d, path.rsplit("-", 1)[1])
print("none" if worst is None else "%.1f mm on page %s" % (worst[0] * 25.4 / 72, worst[1].split(".")[0]))
PY
)
    check "booklet.$lang.nothing_within_10mm_of_the_edge" "[ '$worst' = none ]" "ink $worst from the edge"
done
