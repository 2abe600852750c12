#!/usr/bin/env bash
# Tagged PDF (PDF/UA-1) for screen readers: every letter of examples/cases.csv and tests/extract/cases.csv (Arabic,
# Farsi and Urdu letters with a Latin crime reference inside right-to-left text), the booklet in every language,
# and a right-to-left text with English names marked as such. Each is read back with qpdf and poppler's
# pdfinfo -struct-text (tests/tagged/check.py: catalog, XMP, parent tree against the page content, artifacts,
# figures, links, headings in order, lists, tables, the crime reference) and pdf.js's getStructTree
# (tests/extract/structtree.mjs, where tests/extract/install.sh could install pdf.js).
source "$(dirname "$0")/lib.sh"
langs="en pl ro ar fa ur pa zh-Hans"

pdfjs=1
tests/extract/install.sh >"$tmp/install.log" 2>&1 || { pdfjs=0; echo "INFO tagged: pdf.js not installed, its checks skipped"; }

# Runs check.py over one PDF, with pdf.js's view of it (structure tree, links) when available.
tagged_check() {
    local label=$1 file=$2
    shift 2
    local js=()
    if [ "$pdfjs" = 1 ]; then
        local out
        if out=$(node tests/extract/structtree.mjs "$file" 2>"$tmp/pdfjs.err"); then
            js=(--pdfjs "$out")
        else
            fail "tagged $label: pdf.js getStructTree" "$(tail -n 2 "$tmp/pdfjs.err" | tr '\n' ' ')"
        fi
        if out=$(node tests/extract/annotations.mjs "$file" 2>"$tmp/pdfjs.err"); then
            js+=(--pdfjs-links "$out")
        else
            fail "tagged $label: pdf.js getAnnotations" "$(tail -n 2 "$tmp/pdfjs.err" | tr '\n' ' ')"
        fi
    fi
    tests/tagged/check.py "$@" "${js[@]}" "$label" "$file"
}

for csv in examples/cases.csv tests/extract/cases.csv; do
    name=$(basename "$(dirname "$csv")")
    if ! "$vipgen" letter "$csv" -o "$tmp/$name" >"$tmp/$name.log" 2>&1; then
        fail "tagged: letters of $csv" "$(tail -n 3 "$tmp/$name.log" | tr '\n' ' ')"
        continue
    fi
    # Every letter links to Victim Support, and to its officer's email when the case gives one.
    while IFS=, read -r row ref lang file email; do
        mail=()
        [ -n "$email" ] && mail=(--uri "mailto:$email")
        tagged_check "letter:$name:$row:$lang" "$tmp/$name/$file" --letter --lang "$lang" --ref "$ref" \
            --uri https://victimsupport.org.uk "${mail[@]}"
    done < <(letters_written "$tmp/$name/report.csv" "$csv")
done

for lang in $langs; do
    if ! "$vipgen" booklet --lang "$lang" -o "$tmp/booklet-$lang.pdf" >"$tmp/booklet.log" 2>&1; then
        fail "tagged: booklet $lang" "$(tail -n 3 "$tmp/booklet.log" | tr '\n' ' ')"
        continue
    fi
    tagged_check "booklet:$lang" "$tmp/booklet-$lang.pdf" --booklet --lang "$lang" \
        --uri https://victimsupport.org.uk --uri https://gov.uk/claim-compensation-criminal-injury
done

# A unit the catalogue has not translated (a paragraph, a bold subheading) falls back to its English source, which
# screen readers must read as English: an element or Span with /Lang en, in Arabic and in Polish.
cp -r translations "$tmp/fallback"
/usr/bin/python3 - "$tmp/fallback" <<'PY'
import sys
for lang in ("ar", "pl"):
    path = "%s/%s.xlf" % (sys.argv[1], lang)
    s = open(path, encoding="utf-8").read()
    for unit in ("booklet.s1.p1", "booklet.s1.sub1"):
        i = s.index('<unit id="%s"' % unit)
        j = s.index('state="translated"', i)
        s = s[:j] + 'state="initial"' + s[j + len('state="translated"'):]
    open(path, "w", encoding="utf-8").write(s)
PY
# So is a coded case value's (an offence name) wherever it is printed: in a sentence and in the summary table.
/usr/bin/python3 - "$tmp/fallback" <<'PY'
import sys
for lang, unit in (("ar", "offence.hate_crime"), ("pl", "offence.theft_from_vehicle")):
    path = "%s/%s.xlf" % (sys.argv[1], lang)
    s = open(path, encoding="utf-8").read()
    i = s.index('<unit id="%s"' % unit)
    j = s.index('state="translated"', i)
    s = s[:j] + 'state="initial"' + s[j + len('state="translated"'):]
    open(path, "w", encoding="utf-8").write(s)
PY
if "$vipgen" letter examples/cases.csv --translations "$tmp/fallback" -o "$tmp/fallback-letters" \
    >"$tmp/fallback.log" 2>&1; then
    tagged_check "fallback:letter:pl" "$tmp/fallback-letters/NC-2024-012346_pl.pdf" --letter --lang pl \
        --english "Theft from a vehicle"
    tagged_check "fallback:letter:ar" "$tmp/fallback-letters/NC-2024-012348_ar.pdf" --letter --lang ar \
        --english "Hate crime"
else
    fail "tagged: letters with an English offence name" "$(tail -n 3 "$tmp/fallback.log" | tr '\n' ' ')"
fi
for lang in ar pl; do
    if "$vipgen" booklet --lang "$lang" --translations "$tmp/fallback" -o "$tmp/fallback-$lang.pdf" \
        >"$tmp/fallback.log" 2>&1; then
        tagged_check "fallback:$lang" "$tmp/fallback-$lang.pdf" --booklet --lang "$lang" \
            --english "This booklet is for people who have been affected by crime" \
            --english "Who the Victims’ Code is for"
    else
        fail "tagged: booklet $lang with English fallback" "$(tail -n 3 "$tmp/fallback.log" | tr '\n' ' ')"
    fi
done
# The English paragraph in the Arabic booklet reads left to right: its full stop ends its last word ("help.", where
# a right-to-left paragraph put it before it).
check "tagged fallback:ar: English paragraph left to right" \
    "pdftotext -f 3 -l 3 -bbox '$tmp/fallback-ar.pdf' - | grep -q '>help\.<'" \
    "$(pdftotext -f 3 -l 3 -bbox "$tmp/fallback-ar.pdf" - 2>/dev/null | grep -o '>[.]*help[.]*<')"

# An English name inside Arabic text ([[en:...]]) is a Span with /Lang en.
if "$vipgen" render examples/samples/ar.txt --lang ar -o "$tmp/sample-ar.pdf" >"$tmp/render.log" 2>&1; then
    tagged_check "render:ar" "$tmp/sample-ar.pdf" --lang ar --span-lang en
else
    fail "tagged: render examples/samples/ar.txt" "$(tail -n 3 "$tmp/render.log" | tr '\n' ' ')"
fi

# The structure adds nothing that varies: the same input gives the same bytes.
"$vipgen" booklet --lang ar -o "$tmp/again.pdf" >/dev/null 2>&1
check "tagged: deterministic output" "cmp -s '$tmp/booklet-ar.pdf' '$tmp/again.pdf'" "two runs differ"
