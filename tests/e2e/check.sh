#!/bin/sh
# vipgen check over every real catalogue (no errors: this is how `make test` keeps them clean); a seeded catalogue
# fails with file, line, unit and kind; JSON read by Python's json module; shaped widths (a label, a title, a word
# too wide for its place, in millimetres measured again with hb-shape) and a letter over its page limit; bad input.
. "$(dirname "$0")/lib.sh"

out=$("$vipgen" check translations/*.xlf 2>&1); rc=$?
check "check: every catalogue, no errors (exit 0)" '[ $rc -eq 0 ]' "exit $rc: $(printf '%s\n' "$out" | grep ': error: ' | head -5)"
check "check: a summary line" 'printf "%s\n" "$out" | tail -1 | grep -q "^0 errors, [0-9]* warnings\?$"' "$(printf '%s\n' "$out" | tail -1)"

check "check: no shipped catalogue is too wide for its places" \
    '! printf "%s\n" "$out" | grep -q "\[width\]$"' "$(printf '%s\n' "$out" | grep '\[width\]$' | head -3)"
# (How long a check takes is measured by make bench, not here: a busy machine would fail a timed test.)

# A Farsi catalogue with a misspelt plural keyword and the Arabic yeh, beside the real en.xlf and glossary.
cp translations/en.xlf translations/glossary.tsv "$tmp/"
line=$(grep -n '<target>.*{days, plural, one {' translations/fa.xlf | head -1 | cut -d: -f1)
sed "${line}s/one {/onee {/" translations/fa.xlf > "$tmp/fa.xlf"
yeh=$(grep -n '<target>.*ی' translations/fa.xlf | tail -1 | cut -d: -f1)
sed -i "${yeh}s/ی/ي/" "$tmp/fa.xlf"
out=$("$vipgen" check "$tmp/fa.xlf" 2>&1); rc=$?
check "check: seeded errors exit 1" '[ $rc -eq 1 ]' "exit $rc"
check "check: onee reported with file, line, unit and kind" \
    'printf "%s\n" "$out" | grep -q "^$tmp/fa.xlf:$line: error: unit letter.updates.when: .*'"'"'onee'"'"'.*Did you mean '"'"'one'"'"'.*\[plural-keyword\]$"' \
    "$(printf '%s\n' "$out" | head -3)"
check "check: the Arabic yeh reported on its line" \
    'printf "%s\n" "$out" | grep -q "^$tmp/fa.xlf:$yeh: error: unit .*U+064A.*\[script\]$"' "$(printf '%s\n' "$out" | grep script)"

json=$("$vipgen" check --format json "$tmp/fa.xlf" translations/pl.xlf 2>&1); rc=$?
py=$(printf '%s' "$json" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["problems"]
onee = [x for x in p if x["kind"] == "plural-keyword"]
print(d["errors"] == sum(x["severity"] == "error" for x in p), onee[0]["line"], onee[0]["unit"],
      all(set(x) - {"excess_mm"} == {"file", "line", "unit", "severity", "kind", "message"} for x in p))' 2>&1)
check "check: --format json read by Python's json module" '[ $rc -eq 1 ] && [ "$py" = "True $line letter.updates.when True" ]' "exit $rc, python: $py"

printf 'not XML at all\n' > "$tmp/ro.xlf"
out=$("$vipgen" check "$tmp/ro.xlf" 2>&1); rc=$?
check "check: not XML: one clear error, exit 1" '[ $rc -eq 1 ] && printf "%s\n" "$out" | grep -q "^$tmp/ro.xlf:1: error: .*\[xml\]$"' "exit $rc: $out"
sed 's/trgLang="fa"/trgLang="ur"/' translations/fa.xlf > "$tmp/fa.xlf"
out=$("$vipgen" check "$tmp/fa.xlf" 2>&1); rc=$?
check "check: trgLang ur in fa.xlf refused" '[ $rc -eq 1 ] && printf "%s\n" "$out" | grep -q "^$tmp/fa.xlf:5: error: trgLang is '"'"'ur'"'"' (Urdu) but the file is named for fa"' "exit $rc: $out"
"$vipgen" check >/dev/null 2>&1; rc=$?
check "check: no catalogue is a usage error" '[ $rc -eq 2 ]' "exit $rc"
"$vipgen" check --format xml translations/fa.xlf >/dev/null 2>&1; rc=$?
check "check: unknown format is a usage error" '[ $rc -eq 2 ]' "exit $rc"
"$vipgen" check "$tmp/none.xlf" >/dev/null 2>&1; rc=$?
check "check: a missing file is an error, not a crash" '[ $rc -eq 1 ]' "exit $rc"

# Shaped widths. A Polish catalogue with a table label and the letter's title (both kept on one line by the
# template) made too long, and a label that is one unbreakable word: each reported with its unit, line and
# millimetres. The figure is checked against HarfBuzz's own hb-shape: the text's advance at the type size, less
# the room the message names.
label='Data popełnienia przestępstwa zgłoszonego na policji'
title='Pisemne potwierdzenie zgłoszenia przestępstwa, którego padła Pani lub Pan ofiarą w naszym mieście'
word='Numerbezpośredniegotelefonufunkcjonariusza'
cp translations/en.xlf translations/glossary.tsv "$tmp/"
/usr/bin/python3 - "$tmp/pl.xlf" "$label" "$title" "$word" <<'EOF'
import re, sys
path, label, title, word = sys.argv[1:]
s = open('translations/pl.xlf', encoding='utf-8').read()
def target(unit, text):
    global s
    m = re.search(r'(<unit id="%s"[^>]*>.*?<target>)(.*?)(</target>)' % re.escape(unit), s, re.S)
    s = s[:m.start(2)] + text + s[m.end(2):]
target('letter.glance.offence_date', label)
target('letter.title', title)
target('letter.glance.phone', word)
open(path, 'w', encoding='utf-8').write(s)
EOF
out=$("$vipgen" check "$tmp/pl.xlf" 2>&1); rc=$?
check "check: widths: exit 1" '[ $rc -eq 1 ]' "exit $rc"
label_line=$(grep -n "<target>$label</target>" "$tmp/pl.xlf" | cut -d: -f1)
title_line=$(grep -n "<target>$title</target>" "$tmp/pl.xlf" | cut -d: -f1)
word_line=$(grep -n "<target>$word</target>" "$tmp/pl.xlf" | cut -d: -f1)
check "check: the long label, on its line, wider than its table cell" \
    'printf "%s\n" "$out" | grep -q "^$tmp/pl.xlf:$label_line: error: unit letter.glance.offence_date: is [0-9.]* mm wider than its table cell ([0-9.]* mm) at 11 pt .*letter.*one line: shorten it \[width\]$"' \
    "$(printf '%s\n' "$out" | grep offence_date)"
check "check: the long title wider than its heading line" \
    'printf "%s\n" "$out" | grep -q "^$tmp/pl.xlf:$title_line: error: unit letter.title: is [0-9.]* mm wider than its heading line ([0-9.]* mm) at 17 pt .*\[width\]$"' \
    "$(printf '%s\n' "$out" | grep 'letter.title')"
check "check: the unbreakable label is cut: reported for the letter and the booklet's cover, A4, A5 and large print" \
    '[ $(printf "%s\n" "$out" | grep -c "^$tmp/pl.xlf:$word_line: error: unit letter.glance.phone: is [0-9.]* mm wider than its table cell .* cut there.*\[width\]$") -eq 4 ] && printf "%s\n" "$out" | grep -q "letter.glance.phone: .*page 1 of the booklet" && printf "%s\n" "$out" | grep -q "letter.glance.phone: .* at 9.5 pt on page 1 of the A5 booklet" && printf "%s\n" "$out" | grep -q "letter.glance.phone: .* at 16 pt on page 1 of the large-print booklet"' \
    "$(printf '%s\n' "$out" | grep 'letter.glance.phone')"
"$vipgen" check --format json "$tmp/pl.xlf" >"$tmp/widths.json" 2>&1
cat >"$tmp/widths.py" <<'EOF'
import json, re, subprocess, sys
path, label, title, word = sys.argv[1:]
fonts = '/usr/share/fonts/truetype/noto/'
def width_mm(font, text, size):
    out = subprocess.run(['hb-shape', '--output-format=json', '--no-glyph-names', '--language=pl', fonts + font, text],
                         capture_output=True, text=True, check=True).stdout
    return sum(g['ax'] for g in json.loads(out)) / 1000 * size * 25.4 / 72  # Noto Sans: 1000 units to the em
d = json.load(open(path, encoding='utf-8'))
w = {(x['unit'], 'booklet' in x['message']): x for x in d['problems'] if x['kind'] == 'width'}
bad = []
for unit, text, font, size in [('letter.glance.offence_date', label, 'NotoSans-Regular.ttf', 11),
                               ('letter.title', title, 'NotoSans-Bold.ttf', 17),
                               ('letter.glance.phone', word, 'NotoSans-Regular.ttf', 11)]:
    x = w[(unit, False)]
    room = float(re.search(r'\(([0-9.]+) mm\)', x['message']).group(1))
    expected = width_mm(font, text, size) - room
    if abs(x['excess_mm'] - expected) > 0.3 or '%.1f mm wider' % x['excess_mm'] not in x['message']:
        bad.append('%s: %.1f mm, hb-shape %.1f mm' % (unit, x['excess_mm'], expected))
print(' '.join(bad) or 'ok', len(w))
EOF
py=$(/usr/bin/python3 "$tmp/widths.py" "$tmp/widths.json" "$label" "$title" "$word" 2>&1)
check "check: widths in JSON, in millimetres as hb-shape measures the text" '[ "$py" = "ok 4" ]' "$py"

# A word cut in a sentence that prints another unit's text (the offence name in "Rodzaj przestępstwa: {offence}"):
# the finding is the unit that holds the word, not the sentence too.
/usr/bin/python3 - "$tmp/offence.xlf" <<'EOF'
import re, sys
s = open('translations/pl.xlf', encoding='utf-8').read()
m = re.search(r'(<unit id="offence.burglary_dwelling"[^>]*>.*?<target>)(.*?)(</target>)', s, re.S)
s = s[:m.start(2)] + 'www.' + 'wlamaniedomieszkalnego' * 6 + s[m.end(2):]
open(sys.argv[1], 'w', encoding='utf-8').write(s)
EOF
out=$("$vipgen" check "$tmp/offence.xlf" 2>&1)
check "check: a word cut in a sentence is put on the unit that holds it" \
    'printf "%s\n" "$out" | grep -q "unit offence.burglary_dwelling: is [0-9.]* mm wider than its text column .* of the letter" && ! printf "%s\n" "$out" | grep -q "unit letter.recorded.details: .*\[width\]"' \
    "$(printf '%s\n' "$out" | grep -E 'offence.burglary|recorded.details' | head -5)"

# A letter longer than its page limit at full type size: a warning (vipgen letter still makes it, in smaller type
# or on more pages), naming the limit.
/usr/bin/python3 - "$tmp/pl.xlf" <<'EOF'
import re, sys
s = open('translations/pl.xlf', encoding='utf-8').read()
m = re.search(r'(<unit id="letter.thanks"[^>]*>.*?<target>)(.*?)(</target>)', s, re.S)
s = s[:m.start(2)] + ' '.join([m.group(2)] * 30) + s[m.end(2):]
open(sys.argv[1], 'w', encoding='utf-8').write(s)
EOF
out=$("$vipgen" check "$tmp/pl.xlf" 2>&1); rc=$?
check "check: a letter over its page limit at full type size: a warning with the page count" \
    '[ $rc -eq 0 ] && printf "%s\n" "$out" | grep -q "^$tmp/pl.xlf:[0-9]*: warning: the letter runs to [4-9] pages at full type size.*over its limit of 3.*\[pages\]$"' \
    "exit $rc: $(printf '%s\n' "$out" | grep -v length | head -3)"
"$vipgen" check --no-widths "$tmp/pl.xlf" >"$tmp/nowidth" 2>&1
check "check: --no-widths lays nothing out" '! grep -q "\[pages\]" "$tmp/nowidth"' "$(cat "$tmp/nowidth")"
