#!/usr/bin/env bash
# Bad input gets a clear error naming the file and place, and the documented exit code; outputs are never
# left half-written.
. "$(dirname "$0")/lib.sh"

expect_fail() { # name expected-exit-code pattern command...
    local name=$1 code=$2 pattern=$3
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq "$code" ] && grep -qE -- "$pattern" "$tmp/err"; then pass "$name"; else
        fail "$name" "exit $rc, stderr: $(head -c 300 "$tmp/err")"; fi
}

printf '# Title\n\nGood line.\n\nBad \xC3( byte.\n' >"$tmp/bad.txt"
expect_fail invalid_utf8 1 "bad.txt:5: invalid UTF-8 at byte offset 4" "$vipgen" render "$tmp/bad.txt" --lang en -o "$tmp/bad.pdf"
[ ! -e "$tmp/bad.pdf" ] && pass invalid_utf8.no_output || fail invalid_utf8.no_output "a PDF was written"
expect_fail unknown_language 1 "unknown language tag 'xx'; supported: en, pl, ro, ar, fa, ur, pa, zh-Hans" \
    "$vipgen" render examples/samples/en.txt --lang xx -o "$tmp/x.pdf"
expect_fail missing_input 4 "nope.txt: cannot open" "$vipgen" render "$tmp/nope.txt" --lang en -o "$tmp/x.pdf"
expect_fail usage 2 "usage: vipgen render" "$vipgen" render examples/samples/en.txt
expect_fail unknown_command 2 "unknown command 'frobnicate'" "$vipgen" frobnicate
sed 's|NotoNaskhArabic-Regular.ttf|NotoNaskhArabic-Missing.ttf|' fonts/manifest >"$tmp/manifest"
expect_fail missing_font 3 "cannot open /usr/share/fonts/truetype/noto/NotoNaskhArabic-Missing.ttf.*fonts-noto-core" \
    "$vipgen" render examples/samples/ar.txt --lang ar --fonts "$tmp/manifest" -o "$tmp/x.pdf"

# A character no font has: a warning naming it, and the page is still made.
printf '# Title\n\nHieroglyph \xF0\x93\x80\x80 here.\n' >"$tmp/glyph.txt"
if "$vipgen" render "$tmp/glyph.txt" --lang en -o "$tmp/glyph.pdf" 2>"$tmp/err" && grep -q "glyph.txt:3: U+13000 at byte offset 11" "$tmp/err"; then
    pass missing_glyph_warning; else fail missing_glyph_warning "$(cat "$tmp/err")"; fi

# An existing output survives a failed run untouched, and no temporary file is left behind.
echo "previous content" >"$tmp/keep.pdf"
"$vipgen" render "$tmp/bad.txt" --lang en -o "$tmp/keep.pdf" 2>/dev/null
if [ "$(cat "$tmp/keep.pdf")" = "previous content" ] && [ "$(ls "$tmp" | grep -c 'keep.pdf.')" -eq 0 ]; then
    pass failed_run_keeps_old_output; else fail failed_run_keeps_old_output "$(ls "$tmp")"; fi
"$vipgen" render examples/samples/en.txt --lang en -o "$tmp/keep.pdf"
if head -c 5 "$tmp/keep.pdf" | grep -q '%PDF-' && [ "$(ls "$tmp" | grep -c 'keep.pdf.')" -eq 0 ]; then
    pass successful_run_replaces_output; else fail successful_run_replaces_output "$(ls "$tmp")"; fi
