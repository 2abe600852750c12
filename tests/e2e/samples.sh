#!/usr/bin/env bash
# Every sample page, checked by tools nobody here wrote: qpdf --check, pdffonts (every font embedded and
# subset), pdftotext (the text comes back in logical order), and byte-for-byte determinism.
. "$(dirname "$0")/lib.sh"

# What pdftotext must give back, per language (lines joined: a sentence may wrap). Nastaliq's cascading
# baselines make poppler split Urdu words and number groups, so Urdu is checked by its parts.
declare -A expect
expect[en]='Your crime reference number is NC/2024/012345.|Dear Ms Jane Smith,|You can call him on 0800 555 0123.'
expect[pl]='Szanowna Pani Agnieszka Wiśniewska,|Numer referencyjny Pani sprawy to NC/2024/012345.'
expect[ro]='Stimată doamnă Ioana Popescu,|Numărul de referință al cazului dumneavoastră este NC/2024/012345.'
# poppler pulls a vowel mark (the damma of يُرجى) out next to the LTR reference, so the sentence is checked in
# two parts here; tests/e2e/letters.sh checks the Arabic letter's reference line whole.
expect[ar]='الرقم المرجعي لبلاغك هو|NC/2024/012345|Amira Haddad|0800 555 0123'
expect[fa]='شماره مرجع پرونده شما NC/2024/012345|Maryam Rahimi|0800 555 0123'
expect[ur]='NC/2024/012345|Ayesha Khan|0800|0123'
# Whole sentences with marks drawn back over their base (the tippi of ਨੰਬਰ, the subscript ha of ਉਨ੍ਹਾਂ): poppler
# would read the gap they leave as a space, had the PDF not given such clusters their text (see pdf.c).
expect[pa]='ਤੁਹਾਡੇ ਕੇਸ ਦਾ ਹਵਾਲਾ ਨੰਬਰ NC/2024/012345 ਹੈ।|ਕਿਰਪਾ ਕਰਕੇ ਜਦੋਂ ਵੀ ਤੁਸੀਂ ਸਾਡੇ ਨਾਲ ਸੰਪਰਕ ਕਰੋ ਤਾਂ ਇਹ ਨੰਬਰ ਦੱਸੋ।|ਤੁਸੀਂ ਉਨ੍ਹਾਂ ਨੂੰ 0800 555 0123|Harpreet Kaur|ਸਾਨੂੰ ਅਪਰਾਧ ਦੀ ਰਿਪੋਰਟ ਕਰਨ ਲਈ ਤੁਹਾਡਾ ਧੰਨਵਾਦ।'
expect[zh-Hans]='您的案件编号是 NC/2024/012345。|每次与我们联系时，请提供此编号。|警员 Daniel Okafor 负责处理您的案件。'

for f in examples/samples/*.txt; do
    lang=$(basename "$f" .txt)
    pdf="$tmp/$lang.pdf"
    if ! "$vipgen" render "$f" --lang "$lang" -o "$pdf" 2>"$tmp/err"; then
        fail "$lang.render" "$(cat "$tmp/err")"
        continue
    fi
    pass "$lang.render"
    check "$lang.qpdf_check" "qpdf --check '$pdf' >'$tmp/qpdf' 2>&1" "$(head -c 300 "$tmp/qpdf" 2>/dev/null)"
    pdffonts "$pdf" | tail -n +3 >"$tmp/fonts"
    check "$lang.fonts_present" "[ -s '$tmp/fonts' ]" "pdffonts lists no fonts"
    # Columns: name type encoding emb sub uni object ID; the name may be followed by a multi-word type.
    check "$lang.fonts_embedded_subset" "! awk '{n=NF; if (\$(n-4)!=\"yes\" || \$(n-3)!=\"yes\" || \$(n-2)!=\"yes\") bad=1} END{exit !bad}' '$tmp/fonts'" \
        "$(cat "$tmp/fonts")"
    check "$lang.fonts_subset_tagged" "! grep -vqE '^[A-Z]{6}\\+' '$tmp/fonts'" "$(cat "$tmp/fonts")"
    # poppler marks RTL and LTR stretches with U+202A..U+202E; the text itself is what is compared.
    pdftotext -enc UTF-8 "$pdf" - | perl -CSD -pe 's/[\x{202A}-\x{202E}]//g' | tr '\n' ' ' | tr -s ' ' >"$tmp/$lang.txt"
    IFS='|' read -r -a wants <<<"${expect[$lang]}"
    for w in "${wants[@]}"; do
        check "$lang.text: $w" "grep -qF -- '$w' '$tmp/$lang.txt'" "not in pdftotext output: $(tr '\n' ' ' <"$tmp/$lang.txt" | head -c 400)"
    done
    "$vipgen" render "$f" --lang "$lang" -o "$tmp/$lang-again.pdf"
    check "$lang.deterministic" "cmp -s '$pdf' '$tmp/$lang-again.pdf'" "two renders differ"
    check "$lang.mutool_clean" "mutool info '$pdf' >/dev/null 2>'$tmp/mutool' && ! grep -qi error '$tmp/mutool'" \
        "$(head -c 300 "$tmp/mutool" 2>/dev/null)"
done
