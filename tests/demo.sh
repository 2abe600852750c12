#!/usr/bin/env bash
# make demo: letters for every example case, the booklet in every language, and a sample page per language, for
# the fictional Northshire Police (examples/northshire.conf).
set -u
vipgen=${1:-build/vipgen}
out=${2:-out}
conf=examples/northshire.conf
mkdir -p "$out/letters" "$out/booklets" "$out/samples"
"$vipgen" letter examples/cases.csv -o "$out/letters" --config "$conf"
status=$?
for lang in en pl ro ar fa ur pa zh-Hans; do
    "$vipgen" booklet --lang "$lang" -o "$out/booklets/booklet-$lang.pdf" --config "$conf" || status=1
    "$vipgen" render "examples/samples/$lang.txt" --lang "$lang" -o "$out/samples/$lang.pdf" --config "$conf" || status=1
done
echo "wrote $(ls "$out"/letters/*.pdf 2>/dev/null | wc -l) letters, $(ls "$out"/booklets/*.pdf 2>/dev/null | wc -l) booklets and $(ls "$out"/samples/*.pdf 2>/dev/null | wc -l) sample pages under $out/"
exit $status
