#!/usr/bin/env bash
# Letters and booklets end to end: every example row becomes a letter whose text (pdftotext) holds the crime
# reference, the name and the offence as the catalogue translates it; bad rows are reported while the others are
# still produced; booklets in every language with bookmarks and page numbers; schema errors with line numbers;
# XML entities refused; the same input gives the same bytes.
. "$(dirname "$0")/lib.sh"
# The text of a catalogue unit (the target, or the English source where there is none).
unit() { # lang id
    local t
    t=$(xmllint --xpath "string(//*[local-name()='unit'][@id='$2']//*[local-name()='target'])" "translations/$1.xlf" 2>/dev/null)
    [ -n "$t" ] || t=$(xmllint --xpath "string(//*[local-name()='unit'][@id='$2']//*[local-name()='source'])" "translations/$1.xlf")
    printf '%s' "$t"
}
flat() { tr '\n' ' ' <"$1" | tr -s ' '; }
# Whether every letter of $1 is in $2 at least as often (spaces and poppler's direction marks aside). For Urdu:
# poppler regroups Nastaliq glyphs where baselines cascade, so the words come back split though every letter is
# mapped; the reference and Latin names are still compared whole.
letters_present() {
    WANT="$1" HAVE="$2" perl -e 'my ($w, $h) = @ENV{qw(WANT HAVE)}; utf8::decode($w); utf8::decode($h); my %n;
        $n{$_}++ for grep { !/[\s\x{202A}-\x{202E}]/ } split //, $h;
        for (grep { !/\s/ } split //, $w) { exit 1 if --$n{$_} < 0 } exit 0'
}
# Text without the direction marks poppler inserts (U+200E, U+200F, U+202A-U+202E), no-break spaces as spaces.
without_marks() { perl -CS -pe 's/[\x{200E}\x{200F}\x{202A}-\x{202E}]//g; s/\x{A0}/ /g'; }
# Whether the list markers of rights 1 and 7 sit on one line, 7 on the end side of 1 (the first column is on the
# start side: the right in RTL): the twelve rights are set in two columns. A marker is a number in any script's
# digits with a full stop (before it in RTL text, as poppler gives it).
rights_side_by_side() { # file rtl
    # The rights' markers (1. to 12.) by page and side: on some page both columns start on one line, and read page
    # by page, down the start column (left, or right in RTL) and then the other, they come in order.
    pdftotext -bbox "$1" - | RTL=$2 perl -CS -MUnicode::UCD=num -ne '
        $page++ if /<page /;
        # (in RTL text poppler may give the full stop as a word of its own beside European digits)
        next unless /<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>(\.?)(\p{Nd}+)(\.?)<\/word>/ && ($4 || $6 || $ENV{RTL});
        my $n = num($5);
        # not the footer ("Page 2 of 3"); markers are those standing where other markers stand (one x per column,
        # at their left or right edge)
        push @w, [$page, $1, $2, $n, $3] if defined $n && $n >= 1 && $n <= 12 && $2 < 780;
        END {
            my %numbers;
            for (@w) { $numbers{sprintf "l%.1f", $_->[1]}{$_->[3]} = 1; $numbers{sprintf "r%.1f", $_->[4]}{$_->[3]} = 1 }
            my (%at, %seen);
            for (@w) {
                my ($p, $x, $y, $n, $r) = @$_;
                next if (keys %{$numbers{sprintf "l%.1f", $x}} < 3 && keys %{$numbers{sprintf "r%.1f", $r}} < 3) ||
                        $seen{$n}++;
                my $start = $ENV{RTL} ? $x > 297 : $x < 297;
                push @{$at{$p}{$start ? "s" : "o"}}, [$n, $y];
            }
            # Read page by page, down the start column, then the other: 1 to 12 in order.
            my ($together, @read) = (0);
            for my $p (sort { $a <=> $b } keys %at) {
                my @s = sort { $a->[1] <=> $b->[1] } @{$at{$p}{s} || []};
                my @o = sort { $a->[1] <=> $b->[1] } @{$at{$p}{o} || []};
                push @read, map { $_->[0] } @s, @o;
                $together = 1 if @s && @o && abs($s[0][1] - $o[0][1]) < 2;
            }
            exit($together && join(",", @read) eq join(",", 1 .. 12) ? 0 : 1);
        }'
}
# The text check for a language: whole for every script but Nastaliq.
has_text() { # lang want have
    if [ "$1" = ur ]; then letters_present "$2" "$3"; else printf '%s' "$3" | grep -qF -- "$2"; fi
}

# Whether the words given lie, on page 1, inside the envelope window UK letter services use: 24.6–120 mm from
# the left edge, 39.5–66.3 mm from the top (poppler's word boxes, in points from the top-left corner).
in_window() { # file word...
    local file=$1
    shift
    pdftotext -f 1 -l 1 -bbox "$file" - | WORDS="$*" perl -CSD -ne '
        BEGIN { %want = map { $_ => 1 } split / /, $ENV{WORDS}; $mm = 72 / 25.4; }
        if (/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</ && $want{$5}) {
            $seen{$5} = 1;
            $bad = 1 if $1 < 24.6 * $mm || $3 > 120 * $mm || $2 < 39.5 * $mm || $4 > 66.3 * $mm;
        }
        END { exit(($bad || keys %seen != keys %want) ? 1 : 0) }'
}

"$vipgen" letter examples/cases.csv -o "$tmp/letters" 2>"$tmp/err"
rc=$?
check letters.exit_ok "[ $rc -eq 0 ]" "exit $rc: $(head -c 600 "$tmp/err")"
check letters.report_all_ok "[ \$(grep -c '\"ok\"' '$tmp/letters/report.csv') -eq 9 ]" "$(cat "$tmp/letters/report.csv" 2>/dev/null | head -c 800)"
# Pages after the first: the running header stands clear above the body (the letters' 12 mm top margin cannot hold
# it, so the body starts below it there).
check letters.header_clear_of_body "tests/layout/header_clear.py '$tmp'/letters/*.pdf >'$tmp/clear' 2>&1" "$(head -c 600 "$tmp/clear")"

# Per row of examples/cases.csv: reference, language, name (each part) and offence code.
rows='NC/2024/012345|en|Jane Smith|burglary_dwelling
NC/2024/012346|pl|Agnieszka Wiśniewska|theft_from_vehicle
NC/2024/012347|ro|Ioana Popescu|criminal_damage
NC/2024/012348|ar|أميرة حداد Amira Haddad|hate_crime
NC/2024/012349|fa|Maryam Rahimi مریم رحیمی|robbery
NC/2024/012350|ur|Ayesha Khan عائشہ خان|domestic_abuse
NC/2024/012351|pa|ਹਰਪ੍ਰੀਤ ਕੌਰ Harpreet Kaur|fraud
NC/2024/012352|zh-Hans|李伟 Li Wei|assault
NC/2024/012353|en|Seán O'"'"'Brien {0}|harassment'
while IFS='|' read -r ref lang name offence; do
    file="$tmp/letters/$(printf '%s' "$ref" | tr / -)_$lang.pdf"
    if [ ! -s "$file" ]; then fail "letter.$lang.$ref" "no file $file"; continue; fi
    pdftotext -enc UTF-8 "$file" "$tmp/t.txt"
    text=$(flat "$tmp/t.txt")
    check "letter.$lang.$ref.crime_ref" "grep -qF -- '$ref' '$tmp/t.txt'" "$(printf '%s' "$text" | head -c 300)"
    for part in $name; do
        check "letter.$lang.$ref.name: $part" "grep -qF -- \"\$part\" '$tmp/t.txt'" "$(printf '%s' "$text" | head -c 300)"
    done
    want=$(unit "$lang" "offence.$offence")
    check "letter.$lang.$ref.offence: $want" "[ -n \"\$want\" ] && has_text $lang \"\$want\" \"\$text\"" \
        "$(printf '%s' "$text" | head -c 400)"
    pages=$(pdfinfo "$file" | awk '/^Pages:/{print $2}')
    # 11 pt body text (Latin-equivalent) never shrinks to fit: a letter may take three pages (tests/e2e/type.sh).
    check "letter.$lang.$ref.at_most_3_pages" "[ '$pages' -ge 1 ] && [ '$pages' -le 3 ]" "$pages pages"
    postcode=$(grep -F "$ref," examples/cases.csv | perl -MText::ParseWords -ne 'print((parse_line(",", 0, $_))[7])')
    check "letter.$lang.$ref.address_in_window: $postcode" "in_window '$file' $postcode" \
        "the postcode's words are not all inside the window (24.6-120 mm, 39.5-66.3 mm)"
    rtl=0
    case $lang in ar | fa | ur) rtl=1 ;; esac
    check "letter.$lang.$ref.rights_in_two_columns" "rights_side_by_side '$file' $rtl" \
        "the rights are not in two columns read one after the other (pdftotext -bbox)"
    if [ $rtl -eq 1 ]; then
        # A phone number reads left to right in RTL text (each group would otherwise be its own run, reversed).
        number=$(unit "$lang" letter.support.victim_support | grep -oE '[0-9]{2,}( [0-9]{2,})+' | head -1)
        check "letter.$lang.$ref.phone_number_in_order: $number" \
            "[ -n \"\$number\" ] && printf '%s' \"\$text\" | without_marks | grep -qF -- \"\$number\"" \
            "$(printf '%s' "$text" | without_marks | grep -oE '[0-9]{2,}( [0-9]{2,})+' | tr '\n' '|')"
    fi
    check "letter.$lang.$ref.qpdf" "qpdf --check '$file' >/dev/null 2>&1" "qpdf --check failed"
    check "letter.$lang.$ref.fonts_embedded" "! pdffonts '$file' | tail -n +3 | awk '{n=NF; if (\$(n-4)!=\"yes\") bad=1} END{exit !bad}'" \
        "$(pdffonts "$file")"
    check "letter.$lang.$ref.lang" "qpdf --qdf --object-streams=disable '$file' - 2>/dev/null | grep -aq '/Lang'" "no /Lang"
done <<<"$rows"
# A case value is data: a name that looks like a pattern prints as it is.
check letters.pattern_like_name "pdftotext -enc UTF-8 '$tmp/letters/NC-2024-012353_en.pdf' - | grep -qF \"Seán O'Brien {0}\"" "not printed as is"
# Enhanced rights: the next update within 1 working day; otherwise 5.
check letters.enhanced_update_1_day "pdftotext -enc UTF-8 '$tmp/letters/NC-2024-012353_en.pdf' - | tr '\n' ' ' | grep -qE '1 working day'" "no '1 working day'"
check letters.standard_update_5_days "pdftotext -enc UTF-8 '$tmp/letters/NC-2024-012345_en.pdf' - | tr '\n' ' ' | grep -qE '5 working days'" "no '5 working days'"
check letters.english_date "pdftotext -enc UTF-8 '$tmp/letters/NC-2024-012345_en.pdf' - | grep -qF '2 March 2024'" "offence date not formatted"
# One digit system per document: European digits in Farsi too (translations/README.md, "Digits").
check letters.farsi_digits "pdftotext -enc UTF-8 '$tmp/letters/NC-2024-012349_fa.pdf' - | grep -qF '2024' && ! pdftotext -enc UTF-8 '$tmp/letters/NC-2024-012349_fa.pdf' - | LC_ALL=C.UTF-8 grep -qP '[\\x{06F0}-\\x{06F9}\\x{0660}-\\x{0669}]'" "Persian or Arabic-Indic digits in the Farsi letter"

# Determinism.
"$vipgen" letter examples/cases.csv -o "$tmp/again" 2>/dev/null
same=1
for f in "$tmp"/letters/*.pdf; do cmp -s "$f" "$tmp/again/$(basename "$f")" || same=0; done
check letters.deterministic "[ $same -eq 1 ]" "a letter differs between two runs"
check letters.report_deterministic "cmp -s '$tmp/letters/report.csv' '$tmp/again/report.csv'" "reports differ"

# One row by crime reference.
"$vipgen" letter examples/cases.csv -o "$tmp/one" --ref NC/2024/012350 2>/dev/null
check letters.select_by_ref "[ \$(ls '$tmp/one'/*.pdf | wc -l) -eq 1 ] && [ -s '$tmp/one/NC-2024-012350_ur.pdf' ]" "$(ls "$tmp/one")"
"$vipgen" letter examples/cases.csv -o "$tmp/none" --ref XX/0000/1 2>"$tmp/err"
check letters.unknown_ref "[ $? -eq 1 ] && grep -q 'no valid row has crime reference XX/0000/1' '$tmp/err'" "$(cat "$tmp/err")"

# Bad rows: named on stderr and in the report; the good rows are still produced; exit 6.
"$vipgen" letter tests/data/case/mixed.csv -o "$tmp/mixed" 2>"$tmp/err"
rc=$?
check bad_rows.exit_6 "[ $rc -eq 6 ]" "exit $rc"
good=$(grep -c '"ok"' "$tmp/mixed/report.csv")
bad=$(grep -c '"error"' "$tmp/mixed/report.csv")
check bad_rows.good_rows_produced "[ $good -ge 1 ] && [ \$(ls '$tmp/mixed'/*.pdf | wc -l) -eq $good ]" "$good ok rows, $(ls "$tmp/mixed")"
check bad_rows.reported "[ $bad -ge 1 ] && [ \$(grep -c 'row [0-9]* (line [0-9]*)' '$tmp/err') -ge $bad ]" "$(head -c 600 "$tmp/err")"
check bad_rows.no_temp_files "[ -z \"\$(ls -a '$tmp/mixed' | grep -E '\\.[A-Za-z0-9]{6}\$')\" ]" "$(ls -a "$tmp/mixed")"

# Booklets: every language, 12-20 pages, bookmarks, page numbers, text extracts.
for lang in en pl ro ar fa ur pa zh-Hans; do
    f="$tmp/booklet-$lang.pdf"
    if ! "$vipgen" booklet --lang "$lang" -o "$f" 2>"$tmp/err"; then fail "booklet.$lang" "$(head -c 400 "$tmp/err")"; continue; fi
    pages=$(pdfinfo "$f" | awk '/^Pages:/{print $2}')
    check "booklet.$lang.12_to_20_pages" "[ '$pages' -ge 12 ] && [ '$pages' -le 20 ]" "$pages pages"
    check "booklet.$lang.qpdf" "qpdf --check '$f' >/dev/null 2>&1" "qpdf --check failed"
    check "booklet.$lang.bookmarks" "[ \$(mutool show '$f' outline 2>/dev/null | grep -c .) -ge 10 ]" "$(mutool show "$f" outline 2>&1 | head -5)"
    title=$(unit "$lang" booklet.title)
    page1=$(pdftotext -enc UTF-8 -l 1 "$f" - | tr '\n' ' ')
    check "booklet.$lang.title_text" "has_text $lang \"\$title\" \"\$page1\"" "title '$title' not on page 1"
    check "booklet.$lang.renders" "pdftoppm -r 20 -png '$f' '$tmp/b-$lang' && [ \$(ls '$tmp'/b-$lang-*.png | wc -l) -eq $pages ]" "pdftoppm failed"
done
"$vipgen" booklet --lang ar -o "$tmp/again-ar.pdf" 2>/dev/null
check booklet.deterministic "cmp -s '$tmp/booklet-ar.pdf' '$tmp/again-ar.pdf'" "two renders differ"

# Templates: schema errors name file and line; entities are refused.
mkdir -p "$tmp/tpl"
cp templates/* "$tmp/tpl/"
sed 's|<body>|<body><bogus/>|' templates/letter.xml >"$tmp/tpl/letter.xml"
"$vipgen" letter examples/cases.csv -o "$tmp/x" --templates "$tmp/tpl" 2>"$tmp/err"
rc=$?
check template.schema_error_with_line "[ $rc -eq 1 ] && grep -qE 'letter.xml:[0-9]+: .*bogus' '$tmp/err'" "exit $rc: $(cat "$tmp/err")"
{ echo '<?xml version="1.0"?>'; echo '<!DOCTYPE template [<!ENTITY x SYSTEM "file:///etc/passwd">]>'; tail -n +2 templates/letter.xml; } >"$tmp/tpl/letter.xml"
"$vipgen" letter examples/cases.csv -o "$tmp/x" --templates "$tmp/tpl" 2>"$tmp/err"
check template.entities_refused "grep -q 'letter.xml:2: a DOCTYPE is not allowed' '$tmp/err'" "$(cat "$tmp/err")"
mkdir -p "$tmp/tr"
cp translations/*.xlf "$tmp/tr/"
{ echo '<?xml version="1.0"?>'; echo '<!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'; tail -n +2 translations/pl.xlf; } >"$tmp/tr/pl.xlf"
"$vipgen" letter examples/cases.csv -o "$tmp/y" --translations "$tmp/tr" 2>"$tmp/err"
rc=$?
check catalogue.entities_refused "[ $rc -eq 6 ] && grep -q 'pl.xlf:2: a DOCTYPE is not allowed' '$tmp/err' && [ -s '$tmp/y/NC-2024-012345_en.pdf' ] && [ ! -e '$tmp/y/NC-2024-012346_pl.pdf' ]" \
    "exit $rc: $(head -c 500 "$tmp/err")"

# A full address (name and five lines) in every language still fits the window: the address type shrinks.
{
    head -n 1 examples/cases.csv
    tail -n +2 examples/cases.csv | perl -MText::ParseWords -ne 'chomp; my @f = parse_line(",", 0, $_);
        $f[0] =~ s/^NC/FA/; $f[4] = "Second floor, Riverside Court"; $f[5] = "Upper Kingsway Industrial Estate";
        print join(",", map { my $v = $_ // ""; $v =~ /[",\n]/ ? do { $v =~ s/"/""/g; "\"$v\"" } : $v } @f), "\n"'
} >"$tmp/full.csv"
"$vipgen" letter "$tmp/full.csv" -o "$tmp/full" 2>"$tmp/full-err"
check "letters.full_address.no_overflow_warning" "! grep -q 'too tall' '$tmp/full-err'" "$(grep 'too tall' "$tmp/full-err" | head -3)"
for file in "$tmp"/full/FA-*.pdf; do
    check "letters.full_address.$(basename "$file" .pdf).in_window" "in_window '$file' Riverside Kingsway" \
        "the address lines are not all inside the window"
done

# A letter that cannot fit its three pages (a catalogue whose Urdu thanks run on and on: case values are capped) is
# still written, and said to be over, on stderr and in the report, naming its row.
mkdir -p "$tmp/long"
cp translations/*.xlf "$tmp/long/"
perl -0pi -e 's{(<unit id="letter.thanks">.*?<target>)(.*?)(</target>)}{$1 . join(" ", ($2) x 14) . $3}se' "$tmp/long/ur.xlf"
{
    head -n 1 examples/cases.csv
    grep -F 'NC/2024/012350,' examples/cases.csv | sed 's|^NC/2024/012350,|OV/2024/1,|'
} >"$tmp/over.csv"
"$vipgen" letter "$tmp/over.csv" -o "$tmp/over" --translations "$tmp/long" 2>"$tmp/over-err"
check "letters.over_max_pages.written" "[ -s '$tmp/over/OV-2024-1_ur.pdf' ]" "$(cat "$tmp/over-err")"
check "letters.over_max_pages.stderr_names_row" "grep -q 'row 1 (line 2): warning: the letter runs to [4-9] pages' '$tmp/over-err'" \
    "$(cat "$tmp/over-err")"
check "letters.over_max_pages.in_report" "grep -q '\"ok\",\"OV-2024-1_ur.pdf\",\"[4-9]\",\"\",\"warning: the letter runs to' '$tmp/over/report.csv'" \
    "$(cat "$tmp/over/report.csv" 2>/dev/null)"
