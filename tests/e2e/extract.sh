#!/usr/bin/env bash
# Copy and search in the three engines victims' viewers use: poppler (pdftotext), pdf.js and PDFium (WebAssembly),
# over every letter of examples/cases.csv, the Arabic, Farsi and Urdu letters of tests/extract/cases.csv (names with
# the Allah ligature, a Latin reference inside right-to-left text), and the booklet in every language. For each
# document and engine: the crime reference, names, phone numbers, emails and web addresses must all come back
# whole, and the 15 test sentences of its catalogue (tests/extract/expect.py) in logical order.
# The target is all of them; the gate is tests/extract/baseline.txt (figures may only rise): see tests/extract/gate.py.
source "$(dirname "$0")/lib.sh"
langs="en pl ro ar fa ur pa zh-Hans"

if ! tests/extract/install.sh >"$tmp/install.log" 2>&1; then
    fail "extract: install pdf.js and PDFium" "$(tail -n 3 "$tmp/install.log" | tr '\n' ' ')"
    exit 0
fi

args=()
for csv in examples/cases.csv tests/extract/cases.csv; do
    name=$(basename "$(dirname "$csv")")
    if ! "$vipgen" letter "$csv" -o "$tmp/$name" >"$tmp/$name.log" 2>&1; then
        fail "extract: letters of $csv" "$(tail -n 3 "$tmp/$name.log" | tr '\n' ' ')"
        continue
    fi
    # Every row that has a letter, by its file in report.csv (row, ..., status, file).
    while IFS=, read -r row ref lang file; do
        exp="$tmp/$name-$row.expect"
        tests/extract/expect.py letter "$lang" "$csv" "$ref" >"$exp" || { fail "extract: expect $csv row $row" "expect.py"; continue; }
        args+=(--label "letter:$name:$row:$lang" "$tmp/$name/$file" "$exp")
    done < <(letters_written "$tmp/$name/report.csv")
done
for lang in $langs; do
    if ! "$vipgen" booklet --lang "$lang" -o "$tmp/booklet-$lang.pdf" >"$tmp/booklet.log" 2>&1; then
        fail "extract: booklet $lang" "$(tail -n 3 "$tmp/booklet.log" | tr '\n' ' ')"
        continue
    fi
    tests/extract/expect.py booklet "$lang" >"$tmp/booklet-$lang.expect"
    args+=(--label "booklet:$lang" "$tmp/booklet-$lang.pdf" "$tmp/booklet-$lang.expect")
done

if ! tests/extract/check.py "${args[@]}" >"$tmp/result" 2>"$tmp/check.err"; then
    fail "extract: check.py" "$(tail -n 3 "$tmp/check.err" | tr '\n' ' ')"
    exit 0
fi
# INFO lines with every figure and its target (100 %); PASS where a document and engine holds or improves on
# tests/extract/baseline.txt (naming what improved), FAIL where it falls below. EXTRACT_RECORD=FILE records this
# run's figures as a new baseline instead.
if [ -n "${EXTRACT_RECORD:-}" ]; then
    tests/extract/gate.py --record "$EXTRACT_RECORD" "$tmp/result" && echo "INFO extract: figures recorded in $EXTRACT_RECORD"
    exit 0
fi
tests/extract/gate.py tests/extract/baseline.txt "$tmp/result" || fail "extract: gate.py" "tests/extract/baseline.txt"
