#!/usr/bin/env bash
# Hostile input to the engine (render, templates, catalogues, the schema): bounded time, refusals that name the
# file and line, and nothing printed by the libraries themselves.
. "$(dirname "$0")/lib.sh"

# Seconds the command took (it must also succeed); "fail" when it did not finish or failed.
timed() { # limit command...
    local limit=$1
    shift
    local t0 t1
    t0=$(date +%s.%N)
    if timeout "$limit" "$@" >"$tmp/out" 2>"$tmp/err"; then
        t1=$(date +%s.%N)
        echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}'
    else
        echo fail
    fi
}

# F5: a word longer than any line is cut between graphemes in time linear in its length (it was quadratic:
# 2 MB took 90 s). 2 MB of one Latin word, and 1 MB of one Arabic word (right to left, joined letters).
python3 -c "print('a' * (2 << 20))" >"$tmp/word.txt"
s=$(timed 60 "$vipgen" render "$tmp/word.txt" --lang en -o "$tmp/word.pdf")
check long_word.latin_2mb_in_seconds '[ "$s" != fail ] && awk "BEGIN{exit !($s < 20)}"' \
    "took ${s} s (limit 20 s): $(head -c 300 "$tmp/err")"
python3 -c "print('بسمالله' * (1 << 17))" >"$tmp/word_ar.txt"
s=$(timed 60 "$vipgen" render "$tmp/word_ar.txt" --lang ar -o "$tmp/word_ar.pdf")
check long_word.arabic_1mb_in_seconds '[ "$s" != fail ] && awk "BEGIN{exit !($s < 20)}"' \
    "took ${s} s (limit 20 s): $(head -c 300 "$tmp/err")"

expect_fail() { # name expected-exit-code pattern command...: fails with that code and says pattern on stderr
    local name=$1 code=$2 pattern=$3
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq "$code" ] && grep -qE -- "$pattern" "$tmp/err"; then pass "$name"; else
        fail "$name" "exit $rc, stderr: $(head -c 400 "$tmp/err")"; fi
}

# F16: render refuses a NUL (the text after it was dropped) and takes any number of [[tag:text]] spans.
printf '# Title\n\nHello world\0 this part is lost\n' >"$tmp/nul.txt"
expect_fail render.nul_refused 1 "nul.txt:3: a NUL byte at byte offset 11" \
    "$vipgen" render "$tmp/nul.txt" --lang en -o "$tmp/nul.pdf"
python3 -c "print(' '.join('[[ar:علي %d]]' % i for i in range(40)))" >"$tmp/spans.txt"
"$vipgen" render "$tmp/spans.txt" --lang en -o "$tmp/spans.pdf" 2>"$tmp/err"
check render.forty_spans '[ -s "$tmp/spans.pdf" ] && ! pdftotext "$tmp/spans.pdf" - | grep -q "\[\["' \
    "markup printed: $(pdftotext "$tmp/spans.pdf" - 2>&1 | grep -m1 '\[\[')"

# Templates refused when loaded (not once per letter), with file and line.
cp -r templates "$tmp/tpl"
sed -i 's/body-size="10"/body-size="0.0001"/' "$tmp/tpl/booklet.xml"
expect_fail template.body_size_at_load 1 "booklet.xml:6: <page body-size=\"0.0001\">: must be from 4 to 96 pt" \
    "$vipgen" booklet --lang en --templates "$tmp/tpl" -o "$tmp/b.pdf"
cp templates/booklet.xml "$tmp/tpl/booklet.xml"
sed -i 's|<image src="logo.png"|<image src="../../../../etc/passwd"|' "$tmp/tpl/booklet.xml"
expect_fail template.image_outside_refused 1 "booklet.xml:[0-9]+: <image src=\"../../../../etc/passwd\"> goes up" \
    "$vipgen" booklet --lang en --templates "$tmp/tpl" -o "$tmp/b.pdf"
cp templates/booklet.xml "$tmp/tpl/booklet.xml"
echo "not a PNG" >"$tmp/tpl/logo.png"
expect_fail template.not_png_one_message 1 "logo.png: not a readable PNG image \(Not a PNG file\)" \
    "$vipgen" booklet --lang en --templates "$tmp/tpl" -o "$tmp/b.pdf"
check template.libpng_prints_nothing '! grep -q "libpng" "$tmp/err"' "$(cat "$tmp/err")"
cp templates/logo.png "$tmp/tpl/logo.png"

# F11: a catalogue whose trgLang is not the language its file is named for.
cp -r translations "$tmp/tr"
sed -i 's/trgLang="pl"/trgLang="ro"/' "$tmp/tr/pl.xlf"
expect_fail catalog.trglang_mismatch 1 "pl.xlf:[0-9]+: trgLang is 'ro' \(Romanian\), but the file is named for 'pl' \(Polish\)" \
    "$vipgen" booklet --lang pl --translations "$tmp/tr" -o "$tmp/b.pdf"

# F10: the schema may not include or reference other files or URLs: no request reaches a server, nothing is read.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/www"
echo '<grammar xmlns="http://relaxng.org/ns/structure/1.0"/>' >"$tmp/www/evil.rng"
/usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/http.log" 2>&1 &
server=$!
for _ in $(seq 50); do
    /usr/bin/python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/probe.txt')" 2>/dev/null
    grep -q probe.txt "$tmp/http.log" && break
    sleep 0.1
done
check schema.test_server_up 'grep -q probe.txt "$tmp/http.log"' "the test's HTTP server did not answer"
for ref in "include href=\"http://127.0.0.1:$port/evil.rng\"" \
           "define name=\"evil\"><externalRef href=\"http://127.0.0.1:$port/evil2.rng\"/></define" \
           "include href=\"/etc/passwd\""; do
    cp templates/template.rng "$tmp/tpl/template.rng"
    sed -i "0,/datatypes\">/s||datatypes\"><${ref}/>|" "$tmp/tpl/template.rng"
    sed -i 's|</define/>|</define>|' "$tmp/tpl/template.rng"
    name=schema.refused.$(echo "$ref" | grep -o 'include\|externalRef' | head -1)$(echo "$ref" | grep -q http || echo _file)
    expect_fail "$name" 1 "template.rng:[0-9]+: <(include|externalRef) href=.*> is not allowed" \
        "$vipgen" booklet --lang en --templates "$tmp/tpl" -o "$tmp/b.pdf"
    check "$name.nothing_printed_by_libxml2" '[ "$(wc -l <"$tmp/err")" -eq 1 ] && ! grep -q "root:" "$tmp/err"' \
        "$(cat "$tmp/err")"
done
check schema.no_request_made '! grep -q evil "$tmp/http.log"' "$(grep evil "$tmp/http.log")"
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
cp templates/template.rng "$tmp/tpl/template.rng"
"$vipgen" booklet --lang en --templates "$tmp/tpl" -o "$tmp/b.pdf" 2>"$tmp/err"
check schema.unchanged_copy_works '[ -s "$tmp/b.pdf" ]' "$(cat "$tmp/err")"
