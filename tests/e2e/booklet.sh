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
squash() { tr -d '\n\r\f' | tr -s ' ' | perl -CS -pe 's/[\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]//g'; }
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
            if [ "$e" = pdfium ] && case $lang in ar | fa | ur) true ;; *) false ;; esac; then
                # PDFium's reading of Latin inside right-to-left text is issue 9's (tests/e2e/extract.sh gates it).
                grep -aqF -- "$v" "$tmp/$e" || echo "INFO booklet.$lang.pdfium.panel: $v not found yet (issue 9)"
                continue
            fi
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
