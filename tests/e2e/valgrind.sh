#!/usr/bin/env bash
# The whole PDF path under valgrind, in the scripts that exercise the most code (Arabic with Latin inside,
# Nastaliq, Gurmukhi, CFF Chinese): no memory errors, no leaks.
. "$(dirname "$0")/lib.sh"
for lang in ar ur pa zh-Hans; do
    if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$vipgen" render "examples/samples/$lang.txt" --lang "$lang" -o "$tmp/$lang.pdf" 2>"$tmp/vg"; then
        echo "PASS valgrind.$lang"
    else
        echo "FAIL valgrind.$lang: $(head -c 1500 "$tmp/vg")"
    fi
done
# A letter: case data, catalogue, template merge, layout and PDF, in one worker.
if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$vipgen" letter examples/cases.csv --ref NC/2024/012348 --jobs 1 -o "$tmp/letters" 2>"$tmp/vg"; then
    echo "PASS valgrind.letter_ar"
else
    echo "FAIL valgrind.letter_ar: $(grep -v '^vipgen:' "$tmp/vg" | head -c 1500)"
fi
# A small batch: three rows each in English and Chinese, so that the fonts are prepared for the batch (Latin
# preprocessed whole, the CFF Chinese font cut down to the batch's characters first) and letters share the caches.
{
    head -n 1 examples/cases.csv
    for n in 1 2 3; do
        grep -E '^NC/2024/01234(5|8),|^NC/2024/012352,' examples/cases.csv | sed "s|^NC/2024/|VG/$n/|"
    done
} >"$tmp/batch.csv"
if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$vipgen" letter "$tmp/batch.csv" --jobs 1 -o "$tmp/batch" 2>"$tmp/vg" &&
    [ "$(grep -c '"ok"' "$tmp/batch/report.csv")" -eq 9 ]; then
    echo "PASS valgrind.batch_prepared_fonts"
else
    echo "FAIL valgrind.batch_prepared_fonts: $(grep -v '^vipgen:' "$tmp/vg" | head -c 1500)"
fi
