#!/usr/bin/env bash
# A force's own export goes in as it is where only its form differs, and is never read silently wrong: header
# spellings, its own wording and Home Office codes through the configuration, day-first dates when configured, an
# offence with no place, letter_date defaulting to today; a semicolon file, a workbook, UTF-16 and a file whose
# names came back as '?' (saved as Windows-1252 by the test, with iconv) each refused once with what to do; one
# bad row costs only itself.
. "$(dirname "$0")/lib.sh"
conf=examples/northshire.conf

# The export: the force's column names (some mapped in [columns]), its offence and outcome wording, day-first dates,
# no letter_date column, no emails, an online fraud with no place.
cat >"$tmp/export.csv" <<'CSV'
URN,Language,Victim Surname and Forenames,Address Line 1,Address Line 2,Town,Post Code,Offence Type,Offence Date,Date Reported,Location of Offence,OIC,OIC Rank,OIC Telephone,Needs Assessment,Referral,Enhanced Rights,Enhanced Reason
NC/2024/020001,en,Jane Smith,14 Acacia Avenue,,Northtown,nt1 4ab,Burglary - Residential,02/03/2024,03/03/2024,"14 Acacia Avenue, Northtown",PC Daniel Okafor,Investigating officer,0300 555 0147,VNA Completed,Referred to Victim Care,No,
NC/2024/020002,pl,Agnieszka Wiśniewska,"Flat 3, Mill House",22 Canal Street,Northtown,NT2 7QP,Criminal Damage,1/3/2024,1/3/2024,Canal Street car park,PC Sarah Hughes,Investigating officer,0300 555 0148,completed,Not Applicable,no,
NC/2024/020003,ar,أمير حداد Amir Haddad,7 Station Road,,Northtown,NT3 9LD,Fraud and Forgery,05/03/2024,06/03/2024,,PC Sarah Hughes,Investigating officer,0300 555 0148,VNA Outstanding,N/A,yes,Persistently Targeted
NC/2024/020004,ro,Ion Popescu,3 Mill Lane,,Northtown,NT2 1AA,58A,04/03/2024,05/03/2024,Mill Lane,PC Sarah Hughes,Investigating officer,0300 555 0148,completed,referred,no,
NC/2024/020005,en,Sam Jones,9 Elm Road,,Northtown,NT1 2AB,Burglery Residential,04/03/2024,05/03/2024,Elm Road,PC Sarah Hughes,Investigating officer,0300 555 0148,completed,referred,no,
CSV
SOURCE_DATE_EPOCH=1709856000 "$vipgen" letter "$tmp/export.csv" -o "$tmp/out" --config "$conf" 2>"$tmp/err"
rc=$?
check import.export_runs "[ $rc -eq 6 ] && [ -s '$tmp/out/report.csv' ]" "exit $rc: $(head -c 600 "$tmp/err")"
check import.four_letters "[ \$(grep -c '\"ok\"' '$tmp/out/report.csv') -eq 4 ]" "$(cat "$tmp/out/report.csv" 2>/dev/null | head -c 900)"
check import.did_you_mean "grep -q 'row 5 (line 6), column offence: \"Burglery Residential\" is not a known offence code; did you mean \"Burglary - Residential\" (burglary_dwelling)?' '$tmp/err'" \
    "$(head -c 600 "$tmp/err")"
check import.bad_row_named_in_report "grep -q '\"5\",\"6\",\"NC/2024/020005\",\"en\",\"error\"' '$tmp/out/report.csv'" \
    "$(tail -n 1 "$tmp/out/report.csv" 2>/dev/null)"
text() { pdftotext "$tmp/out/$1" - 2>/dev/null | tr '\n' ' ' | tr -s ' '; }
t=$(text NC-2024-020001_en.pdf)
check import.wording_mapped "printf '%s' \"\$t\" | grep -q 'We have recorded it as: Burglary of a home'" "$(printf '%s' "$t" | head -c 400)"
check import.day_first_dates "printf '%s' \"\$t\" | grep -q 'on 3 March 2024' && printf '%s' \"\$t\" | grep -q 'It happened on 2 March 2024'" \
    "$(printf '%s' "$t" | grep -o 'reported to us on[^.]*' | head -1)"
check import.letter_date_today "printf '%s' \"\$t\" | grep -q '8 March 2024'" "no letter date of 8 March 2024 (SOURCE_DATE_EPOCH)"
check import.postcode_normalised "printf '%s' \"\$t\" | grep -q 'NT1 4AB'" "no NT1 4AB"
check import.home_office_code "[ -s '$tmp/out/NC-2024-020004_ro.pdf' ]" "no Romanian letter for the 58A row"
t=$(text NC-2024-020003_ar.pdf)
check import.no_place_left_out "[ -n \"\$t\" ] && ! printf '%s' \"\$t\" | grep -q 'في هذا المكان'" "the Arabic letter names a place"
check import.enhanced_reason_mapped "grep -q '\"3\",\"4\",\"NC/2024/020003\",\"ar\",\"ok\"' '$tmp/out/report.csv'" \
    "$(grep 020003 "$tmp/out/report.csv")"

# Without the configuration, the force's own column names are not known: one error naming them, with a hint.
"$vipgen" letter "$tmp/export.csv" -o "$tmp/plain" 2>"$tmp/err"
rc=$?
check import.columns_need_config "[ $rc -eq 1 ] && grep -q 'lacks the required columns crime_ref, victim_name' '$tmp/err' && grep -q 'is \"OIC Telephone\" meant to be officer_phone' '$tmp/err' && ! ls '$tmp/plain'/*.pdf >/dev/null 2>&1" \
    "exit $rc: $(head -c 600 "$tmp/err")"
# Day-first dates are never guessed: with vipgen's column names but no configuration, every such row says why.
sed -e '1s/.*/crime_ref,language,victim_name,address_1,address_2,town,postcode,offence,offence_date,reported_date,location,officer_name,officer_role,officer_phone,needs_assessment,referral,enhanced_rights,enhanced_reason/' \
    -e 's/Burglary - Residential/burglary_dwelling/' "$tmp/export.csv" | head -n 2 >"$tmp/dates.csv"
"$vipgen" letter "$tmp/dates.csv" -o "$tmp/dates" 2>"$tmp/err"
check import.dates_never_guessed "grep -q 'column offence_date: \"02/03/2024\" is not a date in the form YYYY-MM-DD.*date_order = day-first' '$tmp/err'" \
    "$(head -c 600 "$tmp/err")"

# A file saved by a spreadsheet as Windows-1252: Arabic, Polish and Chinese letters come back as '?'.
head -n 1 examples/cases.csv >"$tmp/utf8.csv"
grep -E '^NC/2024/01234[56],' examples/cases.csv >>"$tmp/utf8.csv"
grep -E ',(ar|zh-Hans),' examples/cases.csv | head -n 2 >>"$tmp/utf8.csv"
iconv -f UTF-8 -t WINDOWS-1252//TRANSLIT "$tmp/utf8.csv" >"$tmp/cp1252.csv" 2>/dev/null
check import.cp1252_made "grep -q '??' '$tmp/cp1252.csv'" "iconv left no '?'"
"$vipgen" letter "$tmp/cp1252.csv" -o "$tmp/cp" 2>"$tmp/err"
rc=$?
check import.cp1252_refused "[ $rc -eq 1 ] && grep -q 'has \"?\" where letters should be' '$tmp/err' && grep -q 'CSV UTF-8' '$tmp/err' && ! ls '$tmp/cp'/*.pdf >/dev/null 2>&1" \
    "exit $rc: $(head -c 600 "$tmp/err")"

# Semicolons, as a spreadsheet in some regional settings saves "CSV".
tr ',' ';' <"$tmp/utf8.csv" >"$tmp/semi.csv"
"$vipgen" letter "$tmp/semi.csv" -o "$tmp/semi" 2>"$tmp/err"
rc=$?
check import.semicolons_refused "[ $rc -eq 1 ] && grep -q 'separated by semicolons' '$tmp/err' && grep -q 'separator = ;' '$tmp/err'" \
    "exit $rc: $(head -c 600 "$tmp/err")"
printf '[import]\nseparator = ;\n' >"$tmp/semi.conf"
# (the example rows' commas inside quoted values became semicolons too, so only rows without any are compared)
"$vipgen" letter "$tmp/semi.csv" -o "$tmp/semi" --config "$tmp/semi.conf" 2>"$tmp/err"
check import.semicolons_configured "[ -s '$tmp/semi/NC-2024-012345_en.pdf' ]" "$(head -c 600 "$tmp/err")"

# An Excel workbook (a zip file), and UTF-16.
printf 'PK\003\004\024\000\006\000\010\000\000\000!\000' >"$tmp/cases.xlsx"
"$vipgen" letter "$tmp/cases.xlsx" -o "$tmp/x" 2>"$tmp/err"
rc=$?
check import.workbook_refused "[ $rc -eq 1 ] && grep -q 'Excel workbook' '$tmp/err' && grep -q 'CSV UTF-8' '$tmp/err'" "exit $rc: $(cat "$tmp/err")"
iconv -f UTF-8 -t UTF-16LE "$tmp/utf8.csv" >"$tmp/utf16.csv"
"$vipgen" letter "$tmp/utf16.csv" -o "$tmp/x" 2>"$tmp/err"
rc=$?
check import.utf16_refused "[ $rc -eq 1 ] && grep -q 'UTF-16' '$tmp/err'" "exit $rc: $(cat "$tmp/err")"

# A stray quote in one row costs that row only.
{ cat "$tmp/utf8.csv"; grep -E '^NC/2024/012347,' examples/cases.csv | sed 's/,Ioana Popescu,/,Ioana "Jo" Popescu,/'; } >"$tmp/quote.csv"
"$vipgen" letter "$tmp/quote.csv" -o "$tmp/q" 2>"$tmp/err"
rc=$?
check import.stray_quote_one_row "[ $rc -eq 6 ] && [ \$(ls '$tmp/q'/*.pdf | wc -l) -eq 4 ] && grep -q 'row 5 (line 6): not valid CSV' '$tmp/err'" \
    "exit $rc: $(head -c 600 "$tmp/err")"

# A configuration that is wrong stops everything before anything is produced, naming file, line and key.
printf '[force]\nname = Northshire Police\n\n[offence]\nBurglary - Residential = burglary_home\n' >"$tmp/bad.conf"
"$vipgen" letter examples/cases.csv -o "$tmp/bad" --config "$tmp/bad.conf" 2>"$tmp/err"
rc=$?
check import.config_bad_code "[ $rc -eq 1 ] && grep -q 'bad.conf:5: \[offence\] Burglary - Residential = \"burglary_home\"' '$tmp/err' && [ ! -e '$tmp/bad' ]" \
    "exit $rc: $(cat "$tmp/err")"
printf '[force]\nname = Northshire Police\ncolour = blue\n' >"$tmp/bad2.conf"
"$vipgen" booklet --lang en -o "$tmp/b.pdf" --config "$tmp/bad2.conf" 2>"$tmp/err"
rc=$?
check import.config_unknown_key "[ $rc -eq 1 ] && grep -q 'bad2.conf:3: \[force\] has no key \"colour\"' '$tmp/err' && [ ! -e '$tmp/b.pdf' ]" \
    "exit $rc: $(cat "$tmp/err")"
printf '[mail]\nconnections = many\n' >"$tmp/bad3.conf"
"$vipgen" booklet --lang en -o "$tmp/b.pdf" --config "$tmp/bad3.conf" 2>"$tmp/err"
check import.config_wrong_type "grep -q 'bad3.conf:2: \[mail\] connections = \"many\": expected a whole number' '$tmp/err'" "$(cat "$tmp/err")"

# Progress on a terminal (script(1) gives the batch one), none when stderr is not a terminal or with --quiet; a summary
# at the end either way but with --quiet.
script -q -e -c "'$vipgen' letter examples/cases.csv -o '$tmp/tty' --config '$conf'" /dev/null >"$tmp/tty.out" 2>&1
check import.progress_on_a_terminal "grep -aq 'of 9 letters' '$tmp/tty.out' && grep -aq 'summary:' '$tmp/tty.out'" "$(tail -c 400 "$tmp/tty.out")"
"$vipgen" letter examples/cases.csv -o "$tmp/notty" --config "$conf" 2>"$tmp/notty.err"
check import.no_progress_off_a_terminal "! grep -q 'of 9 letters' '$tmp/notty.err' && grep -q 'summary:' '$tmp/notty.err'" "$(tail -c 300 "$tmp/notty.err")"
script -q -e -c "'$vipgen' letter examples/cases.csv -o '$tmp/quiet' --config '$conf' --quiet" /dev/null >"$tmp/quiet.out" 2>&1
check import.quiet "! grep -aq 'of 9 letters' '$tmp/quiet.out' && ! grep -aq 'summary:' '$tmp/quiet.out'" "$(tail -c 300 "$tmp/quiet.out")"
