#!/usr/bin/env bash
# A letter batch that must not lose or misstate its record when things go wrong: crime references that give one
# file name (NC/2024/1 and NC-2024-1, or differing in case) are refused, not overwritten; names never begin with
# '-'; letters and report are private (0600) whatever was there before; a bad output directory is one error
# before anything is rendered; two batches cannot share a directory; a killed worker's rows are all in the report;
# a killed parent takes its workers with it, and a later run clears the temporaries left; a report from an
# earlier batch never survives a failed one; invalid rows keep their crime reference and language; a character no
# font has is a warning naming the row, in the report.
. "$(dirname "$0")/lib.sh"
vipgen=$(cd "$(dirname "$vipgen")" && pwd)/$(basename "$vipgen")
header=$(head -n 1 examples/cases.csv)
base=$(grep -F 'NC/2024/012345,' examples/cases.csv)

# rows FIRST COUNT [LANG] [NAME]: COUNT rows like the first English example, crime refs HB/2024/<FIRST..>.
rows() {
    FIRST=$1 COUNT=$2 ROWLANG=${3:-en} NAME=${4:-Jane Smith} BASE=$base perl -MText::ParseWords -e '
        my @f = parse_line(",", 0, $ENV{BASE});
        for my $i ($ENV{FIRST} .. $ENV{FIRST} + $ENV{COUNT} - 1) {
            $f[0] = sprintf("HB/2024/%06d", $i); $f[1] = $ENV{ROWLANG}; $f[2] = $ENV{NAME};
            print join(",", map { my $v = $_ // ""; $v =~ /[",\n]/ ? do { $v =~ s/"/""/g; "\"$v\"" } : $v } @f), "\n";
        }'
}
# with_ref REF [NAME]: the first example with another crime reference (and name).
with_ref() { rows 1 1 en "${2:-Jane Smith}" | sed "s|^HB/2024/000001|$1|"; }
# field FILE ROW COLUMN: a column of report.csv for a row number.
field() {
    ROW=$2 COL=$3 perl -MText::ParseWords -ne 'chomp; my @f = parse_line(",", 0, $_);
        my %c = (row => 0, line => 1, crime_ref => 2, language => 3, status => 4, file => 5, pages => 6, column => 7, message => 8);
        print $f[$c{$ENV{COL}}] if @f && $f[0] eq $ENV{ROW}' "$1"
}
mode() { stat -c %a "$1" 2>/dev/null; }
# gone PID...: whether every process has ended (or is a zombie nobody reaped yet), waiting up to 2 s.
gone() {
    for _ in $(seq 20); do
        local alive=0
        for p in "$@"; do
            [ -e "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && alive=1
        done
        [ $alive -eq 0 ] && return 0
        sleep 0.1
    done
    return 1
}
# pdfs_at_least DIR N: waits (up to 60 s) until DIR holds N letters.
pdfs_at_least() {
    for _ in $(seq 600); do
        [ "$(find "$1" -maxdepth 1 -name '*.pdf' 2>/dev/null | wc -l)" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
umask 022

# F1: NC/2024/000001 and NC-2024-000001 (and refs differing in case) give one file name: the second row is
# refused, naming the first; the first victim's letter stays.
{
    echo "$header"
    with_ref NC/2024/000001 "Alice First"
    with_ref NC-2024-000001 "Bella Second"
    with_ref nc/2024/000002 "Carla Third"
    with_ref NC/2024/000002 "Dora Fourth"
} >"$tmp/same.csv"
"$vipgen" letter "$tmp/same.csv" -o "$tmp/same" --jobs 1 2>"$tmp/err"
rc=$?
check same_name.exit_6 "[ $rc -eq 6 ]" "exit $rc: $(cat "$tmp/err")"
check same_name.first_kept "pdftotext '$tmp/same/NC-2024-000001_en.pdf' - 2>/dev/null | grep -q 'Alice First'" \
    "$(pdftotext "$tmp/same/NC-2024-000001_en.pdf" - 2>&1 | head -5)"
check same_name.second_refused "[ \"\$(field '$tmp/same/report.csv' 2 status)\" = error ] && field '$tmp/same/report.csv' 2 message | grep -q 'row 1 (crime reference NC/2024/000001'" \
    "$(cat "$tmp/same/report.csv")"
check same_name.on_stderr "grep -q 'NC-2024-000001.*row 2 (line 3).*row 1 (crime reference NC/2024/000001' '$tmp/err'" "$(cat "$tmp/err")"
check same_name.ignoring_case "[ \"\$(field '$tmp/same/report.csv' 4 status)\" = error ] && [ \$(ls '$tmp/same' | grep -ci '^nc-2024-000002') -eq 1 ]" \
    "$(ls "$tmp/same"); $(cat "$tmp/same/report.csv")"

# F16: a crime reference beginning with '-' never gives a file name beginning with '-' (the row is refused, or its
# letter is named _-rf_en.pdf).
{ echo "$header"; with_ref -rf; } >"$tmp/dash.csv"
"$vipgen" letter "$tmp/dash.csv" -o "$tmp/dash" 2>"$tmp/err"
rc=$?
status=$(field "$tmp/dash/report.csv" 1 status)
file=$(field "$tmp/dash/report.csv" 1 file)
check dash_ref.no_option_like_name "[ -z \"\$(ls '$tmp/dash' | grep '^-')\" ] && { [ $rc -eq 0 ] && [ '$status' = ok ] && [ '$file' = _-rf_en.pdf ] && [ -s '$tmp/dash/_-rf_en.pdf' ] || [ $rc -eq 6 ] && [ '$status' = error ]; }" \
    "exit $rc: $(ls "$tmp/dash"); $(cat "$tmp/err")"

# F4: letters and report 0600, not the mode of the file replaced nor of a symlink's target.
mkdir -p "$tmp/modes"
{ echo "$header"; rows 1 3; } >"$tmp/three.csv"
echo old >"$tmp/modes/HB-2024-000001_en.pdf"
chmod 0666 "$tmp/modes/HB-2024-000001_en.pdf"
echo "PRECIOUS DATA" >"$tmp/precious"
chmod 4777 "$tmp/precious"
ln -s "$tmp/precious" "$tmp/modes/HB-2024-000002_en.pdf"
"$vipgen" letter "$tmp/three.csv" -o "$tmp/modes" 2>"$tmp/err"
rc=$?
check modes.exit_0 "[ $rc -eq 0 ]" "exit $rc: $(cat "$tmp/err")"
check modes.letters_private "[ \"\$(stat -c %a '$tmp'/modes/*.pdf | sort -u)\" = 600 ]" "$(ls -l "$tmp/modes")"
check modes.report_private "[ \"\$(mode '$tmp/modes/report.csv')\" = 600 ]" "$(ls -l "$tmp/modes")"
check modes.symlink_target_untouched "[ \"\$(cat '$tmp/precious')\" = 'PRECIOUS DATA' ] && [ \"\$(mode '$tmp/precious')\" = 4777 ] && [ ! -L '$tmp/modes/HB-2024-000002_en.pdf' ]" \
    "$(ls -l "$tmp/precious" "$tmp/modes")"

# F14: a bad output directory is one error, exit 4, before any row is rendered.
ln -s "$tmp/nowhere" "$tmp/dangling"
echo file >"$tmp/plainfile"
mkdir -p "$tmp/readonly"
chmod 0555 "$tmp/readonly"
chmod o+x "$tmp"
for kind in dangling plainfile readonly; do
    if [ $kind = readonly ]; then
        # As root every directory is writable: the check runs as nobody.
        mkdir -p "$tmp/home"
        chmod 0777 "$tmp/home"
        HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home setpriv --reuid=65534 --regid=65534 --clear-groups "$vipgen" letter "$tmp/three.csv" -o "$tmp/$kind" 2>"$tmp/err"
    else
        "$vipgen" letter "$tmp/three.csv" -o "$tmp/$kind" 2>"$tmp/err"
    fi
    rc=$?
    check "bad_out_dir.$kind" "[ $rc -eq 4 ] && [ \$(grep -c . '$tmp/err') -eq 1 ] && grep -q '$tmp/$kind' '$tmp/err' && ! grep -q 'row ' '$tmp/err'" \
        "exit $rc: $(head -c 600 "$tmp/err")"
done
check bad_out_dir.nothing_written "[ ! -e '$tmp/nowhere' ] && [ -z \"\$(ls -A '$tmp/readonly')\" ] && [ \"\$(cat '$tmp/plainfile')\" = file ]" "$(ls -la "$tmp/readonly")"

# F6: two batches into one directory: the second refuses, naming the first's process; the first's report is whole.
{ echo "$header"; rows 100 400; } >"$tmp/sixty.csv"
{ echo "$header"; rows 900 5; } >"$tmp/five.csv"
"$vipgen" letter "$tmp/sixty.csv" -o "$tmp/shared" --jobs 2 2>"$tmp/err-a" &
first=$!
pdfs_at_least "$tmp/shared" 1
"$vipgen" letter "$tmp/five.csv" -o "$tmp/shared" 2>"$tmp/err-b"
rc=$?
check two_batches.second_refused "[ $rc -eq 4 ] && grep -q 'another vipgen batch (process $first)' '$tmp/err-b'" "exit $rc: $(cat "$tmp/err-b")"
wait $first
rc=$?
check two_batches.first_done "[ $rc -eq 0 ] && [ \$(grep -c '\"ok\"' '$tmp/shared/report.csv') -eq 400 ] && [ \$(ls '$tmp/shared' | grep -c 'HB-2024-00090') -eq 0 ]" \
    "exit $rc: $(tail -3 "$tmp/err-a"); $(ls "$tmp/shared" | head)"

# F2: a worker killed mid-batch: every row is in the report (what it finished ok, the row in hand an error naming
# the signal, the rest produced again) and the batch exits 6, not 5.
{ echo "$header"; rows 1000 200; } >"$tmp/many.csv"
"$vipgen" letter "$tmp/many.csv" -o "$tmp/killw" --jobs 2 2>"$tmp/err" &
parent=$!
pdfs_at_least "$tmp/killw" 10
worker=$(pgrep -P $parent | head -n 1)
[ -n "$worker" ] && kill -9 "$worker"
wait $parent
rc=$?
ok=$(grep -c '"ok"' "$tmp/killw/report.csv" 2>/dev/null)
check killed_worker.exit_6 "[ -n '$worker' ] && [ $rc -eq 6 ]" "worker '$worker', exit $rc: $(tail -3 "$tmp/err")"
check killed_worker.every_row_reported "[ \$(tail -n +2 '$tmp/killw/report.csv' | grep -c .) -eq 200 ] && ! grep -q '\"pending\"' '$tmp/killw/report.csv'" \
    "$(grep -vc '"ok"' "$tmp/killw/report.csv" 2>/dev/null) rows not ok"
check killed_worker.signal_named "grep -q '\"error\",.*ended by signal 9' '$tmp/killw/report.csv' && grep -q 'ended by signal 9' '$tmp/err'" \
    "$(grep -v '"ok"' "$tmp/killw/report.csv" 2>/dev/null | head -3)"
check killed_worker.ok_rows_have_letters "[ \"$ok\" -ge 190 ] && [ \$(ls '$tmp/killw'/*.pdf | wc -l) -ge $ok ]" "$ok ok"

# F3: the parent killed: its workers end too, the report says the batch did not finish, and a later run into the
# directory removes the temporaries left (its own kind only: regular files of ours, not symlinks).
{ echo "$header"; rows 5000 1000; } >"$tmp/more.csv"
"$vipgen" letter "$tmp/more.csv" -o "$tmp/killp" --jobs 2 2>/dev/null &
parent=$!
pdfs_at_least "$tmp/killp" 10
workers=$(pgrep -P $parent)
kill -9 $parent
wait $parent 2>/dev/null
workers=$(echo $workers)
check killed_parent.workers_end "[ -n '$workers' ] && gone $workers" "workers $workers still running"
count=$(ls "$tmp/killp" | grep -c '\.pdf$')
sleep 1
check killed_parent.no_more_letters "[ \$(ls '$tmp/killp' | grep -c '\\.pdf\$') -eq $count ]" "letters still being written"
check killed_parent.report_not_finished "[ \$(grep -c '\"pending\",.*not finished' '$tmp/killp/report.csv') -ge 1 ] && [ \$(tail -n +2 '$tmp/killp/report.csv' | grep -c .) -eq 1000 ]" \
    "$(head -3 "$tmp/killp/report.csv" 2>/dev/null)"
echo half >"$tmp/killp/.HB-2024-009999_en.pdf.vipgen-tmp.Ab12Cd"
touch -d '1 hour ago' "$tmp/killp/.HB-2024-009999_en.pdf.vipgen-tmp.Ab12Cd"
echo keep >"$tmp/keep"
ln -s "$tmp/keep" "$tmp/killp/.link.pdf.vipgen-tmp.Zz99Yy"
"$vipgen" letter "$tmp/five.csv" -o "$tmp/killp" 2>"$tmp/err"
rc=$?
check rerun.stale_temporaries_removed "[ $rc -eq 0 ] && [ -z \"\$(find '$tmp/killp' -maxdepth 1 -type f -name '.*vipgen-tmp*')\" ]" \
    "exit $rc: $(ls -a "$tmp/killp" | grep tmp)"
check rerun.symlink_left_alone "[ -L '$tmp/killp/.link.pdf.vipgen-tmp.Zz99Yy' ] && [ \"\$(cat '$tmp/keep')\" = keep ]" "$(ls -la "$tmp/killp" | grep link)"

# F6: a report from an earlier batch never survives a failed one. The file system runs out of inodes (a tmpfs
# with few) while the second batch writes its letters, so that its report cannot be written at the end either:
# report.csv may be the one this batch wrote before its letters, but never the first batch's.
mkdir -p "$tmp/full"
if mount -t tmpfs -o size=50m,nr_inodes=24 tmpfs "$tmp/full" 2>/dev/null; then
    { echo "$header"; rows 1 3; } >"$tmp/early.csv"
    { echo "$header"; rows 300 40; } >"$tmp/later.csv"
    "$vipgen" letter "$tmp/early.csv" -o "$tmp/full/out" 2>/dev/null
    "$vipgen" letter "$tmp/later.csv" -o "$tmp/full/out" 2>"$tmp/err"
    rc=$?
    check disk_full.batch_fails "[ $rc -eq 4 ] && grep -q 'report.csv' '$tmp/err'" "exit $rc: $(tail -2 "$tmp/err")"
    check disk_full.no_stale_report "[ ! -e '$tmp/full/out/report.csv' ] || ! grep -q 'HB/2024/000001' '$tmp/full/out/report.csv'" \
        "$(head -4 "$tmp/full/out/report.csv")"
    check disk_full.report_is_this_batch "[ \$(grep -c 'HB/2024/000' '$tmp/full/out/report.csv') -eq 40 ]" "$(head -4 "$tmp/full/out/report.csv")"
    check disk_full.no_temporaries "[ -z \"\$(ls -A '$tmp/full/out' | grep vipgen-tmp)\" ]" "$(ls -A "$tmp/full/out")"
    umount "$tmp/full"
else
    echo "INFO disk_full: cannot mount a tmpfs here; not checked"
fi

# F7: an invalid row keeps its crime reference and language, in the report and on stderr.
{ echo "$header"; with_ref BR/2024/000001 | sed 's/NT1 4AB/not a postcode/'; } >"$tmp/invalid.csv"
"$vipgen" letter "$tmp/invalid.csv" -o "$tmp/invalid" 2>"$tmp/err"
rc=$?
check invalid_row.report_names_case "[ $rc -eq 6 ] && [ \"\$(field '$tmp/invalid/report.csv' 1 crime_ref)\" = BR/2024/000001 ] && [ \"\$(field '$tmp/invalid/report.csv' 1 language)\" = en ]" \
    "exit $rc: $(cat "$tmp/invalid/report.csv")"
check invalid_row.stderr_names_case "grep -q 'BR/2024/000001.*row 1 (line 2).*postcode' '$tmp/err'" "$(cat "$tmp/err")"

# F9: a character no font has is a warning naming the row and crime reference, in the report's message column.
{ echo "$header"; rows 1 1; with_ref GL/2024/000001 "Jane 😀 Smith"; } >"$tmp/glyph.csv"
"$vipgen" letter "$tmp/glyph.csv" -o "$tmp/glyph" 2>"$tmp/err"
rc=$?
check missing_glyph.letter_ok "[ $rc -eq 0 ] && [ \"\$(field '$tmp/glyph/report.csv' 2 status)\" = ok ]" "exit $rc: $(cat "$tmp/err")"
check missing_glyph.in_report "field '$tmp/glyph/report.csv' 2 message | grep -q 'warning: .*U+1F600.*no glyph'" "$(cat "$tmp/glyph/report.csv")"
check missing_glyph.only_that_row "[ -z \"\$(field '$tmp/glyph/report.csv' 1 message)\" ]" "$(cat "$tmp/glyph/report.csv")"
check missing_glyph.stderr_names_row "grep -q 'GL/2024/000001.*row 2 (line 3): warning: .*U+1F600' '$tmp/err' && ! grep -q '^vipgen: warning: .*U+1F600' '$tmp/err'" \
    "$(cat "$tmp/err")"
# ... and the text still comes out right: the character itself, under its missing-glyph box, in the text layer.
check missing_glyph.text_out "pdftotext -enc UTF-8 '$tmp/glyph/GL-2024-000001_en.pdf' - 2>/dev/null | grep -q 'Jane 😀 Smith'" \
    "$(pdftotext -enc UTF-8 "$tmp/glyph/GL-2024-000001_en.pdf" - 2>&1 | grep -m2 Jane)"

# Characters a name cannot be shown with as written: a warning naming the row, the column and the code point,
# and the letter still made, with the text as it can be read. A control character and a noncharacter are left out,
# a tab read as a space; a word that begins with a combining mark keeps it (drawn on its own; in Indic
# and Arabic script on a dotted circle, which is not copied).
{ echo "$header"; with_ref CC/2024/000001 $'Jane\aSmith'; with_ref CC/2024/000002 $'Jane\tSmith';
  with_ref CC/2024/000003 $'Jane \uFFFFSmith'; with_ref CC/2024/000004 $'\u0301Jane Smith'; } >"$tmp/cc.csv"
"$vipgen" letter "$tmp/cc.csv" -o "$tmp/cc" 2>"$tmp/err"
rc=$?
check unshowable.letters_ok "[ $rc -eq 0 ] && [ \"\$(field '$tmp/cc/report.csv' 1 status)\$(field '$tmp/cc/report.csv' 4 status)\" = okok ]" \
    "exit $rc: $(cat "$tmp/err")"
check unshowable.control_named "field '$tmp/cc/report.csv' 1 message | grep -q 'warning: column victim_name: U+0007 (a control character) left out'" \
    "$(cat "$tmp/cc/report.csv")"
check unshowable.tab_named "field '$tmp/cc/report.csv' 2 message | grep -q 'column victim_name: U+0009 (a tab) read as a space'" \
    "$(cat "$tmp/cc/report.csv")"
check unshowable.nonchar_named "field '$tmp/cc/report.csv' 3 message | grep -q 'column victim_name: U+FFFF (a noncharacter) left out'" \
    "$(cat "$tmp/cc/report.csv")"
check unshowable.mark_named "field '$tmp/cc/report.csv' 4 message | grep -q 'column victim_name: U+0301 COMBINING ACUTE ACCENT begins a word'" \
    "$(cat "$tmp/cc/report.csv")"
check unshowable.stderr_names_row "grep -q 'CC/2024/000001.*row 1 (line 2): warning: column victim_name: U+0007' '$tmp/err'" "$(cat "$tmp/err")"
"$vipgen" letter "$tmp/cc.csv" --check 2>"$tmp/err" >/dev/null
check unshowable.in_check_mode "grep -q 'cc.csv: row 4 (line 5): warning: column victim_name: U+0301' '$tmp/err'" "$(cat "$tmp/err")"
check unshowable.text_out "pdftotext -enc UTF-8 '$tmp/cc/CC-2024-000001_en.pdf' - | grep -q 'Dear JaneSmith' &&
    pdftotext -enc UTF-8 '$tmp/cc/CC-2024-000002_en.pdf' - | grep -q 'Dear Jane Smith' &&
    pdftotext -enc UTF-8 '$tmp/cc/CC-2024-000003_en.pdf' - | grep -q 'Dear Jane Smith' &&
    pdftotext -enc UTF-8 '$tmp/cc/CC-2024-000004_en.pdf' - | grep -q \"Dear $(printf '\xcc\x81')Jane Smith\" &&
    ! pdftotext -enc UTF-8 '$tmp/cc/CC-2024-000004_en.pdf' - | grep -q \"$(printf '\xe2\x97\x8c')\"" \
    "$(for f in "$tmp"/cc/*.pdf; do pdftotext -enc UTF-8 "$f" - | grep -m1 Dear; done)"
# The same character in two letters (the second laid out from the text cache): each row hears of it.
{ echo "$header"; with_ref GL/2024/000002 "Jane 😀 Smith"; with_ref GL/2024/000003 "Jane 😀 Smith"; } >"$tmp/glyph2.csv"
"$vipgen" letter "$tmp/glyph2.csv" -o "$tmp/glyph2" --jobs 1 2>"$tmp/err"
check missing_glyph.every_row_from_cache "field '$tmp/glyph2/report.csv' 1 message | grep -q 'U+1F600' && field '$tmp/glyph2/report.csv' 2 message | grep -q 'U+1F600'" \
    "$(cat "$tmp/glyph2/report.csv")"
