#!/bin/sh
# vipgen check over every real catalogue (no errors: this is how `make test` keeps them clean), each in under a
# second; a seeded catalogue fails with file, line, unit and kind; JSON read by Python's json module; bad input.
. "$(dirname "$0")/lib.sh"

out=$("$vipgen" check translations/*.xlf 2>&1); rc=$?
check "check: every catalogue, no errors (exit 0)" '[ $rc -eq 0 ]' "exit $rc: $(printf '%s\n' "$out" | grep ': error: ' | head -5)"
check "check: a summary line" 'printf "%s\n" "$out" | tail -1 | grep -q "^0 errors, [0-9]* warnings\?$"' "$(printf '%s\n' "$out" | tail -1)"

for f in translations/*.xlf; do
    start=$(date +%s%N)
    "$vipgen" check "$f" >/dev/null 2>&1; rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check "check: $f in under a second (${ms} ms)" '[ $rc -eq 0 ] && [ $ms -lt 1000 ]' "exit $rc, $ms ms"
done

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
      all(set(x) == {"file", "line", "unit", "severity", "kind", "message"} for x in p))' 2>&1)
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
