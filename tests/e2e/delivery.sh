#!/usr/bin/env bash
# Delivery against real parts: a real SMTP server on 127.0.0.1 (Debian's aiosmtpd, tests/smtp_server.py) with
# STARTTLS on a certificate made here with openssl, and AUTH; every message parsed by Python's email package;
# a real SQLite journal. Safe-contact rules for every sensitive offence; 421 then 250, 550, a connection dropped in
# DATA, a server that is down; wrong credentials and bad URLs refused before anything is sent; records.csv only
# grows; the post pile; .eml files; and kill -9 in the middle of a 2,000-row send, then a rerun: every Message-ID in
# the mailbox exactly once, apart from those listed as uncertain.
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
servers=()
cleanup_servers() { for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done; }
trap 'cleanup_servers; rm -rf "$tmp"' EXIT

# The server's certificate, for 127.0.0.1, and the credentials (a file readable by its owner only).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
printf 'bureau\ns3cret-Pa55\n' >"$tmp/auth"
chmod 600 "$tmp/auth"

# start_server NAME [extra options...]: a server with its own mailbox; sets $port.
start_server() {
    local name=$1
    shift
    mkdir -p "$tmp/$name"
    "$py" tests/smtp_server.py --mailbox "$tmp/$name" --port 0 --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
        --auth-file "$tmp/auth" --time-limit 300 "$@" >"$tmp/$name.port" 2>"$tmp/$name.log" &
    servers+=($!)
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^PORT //p' "$tmp/$name.port")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    echo "FAIL delivery.server_$name: the test server did not start: $(cat "$tmp/$name.log")"
    return 1
}

conf() { # the configuration: the force, the sender, the certificate and credentials; fast retries
    cat <<CONF
[force]
name = Northshire Police
[mail]
from = Northshire Police Victim Care <victim.letters@northshire.police.example>
reply_to = victim.care@northshire.police.example
signature = Northshire Police Victim Care Unit
credentials_file = $tmp/auth
ca_file = $tmp/cert.pem
tries = 2
retry_delay_ms = 200
${1:-}
CONF
}
conf >"$tmp/mail.conf"

# The case data: one row per language with an email address; the sensitive offences with every safe_to_contact;
# rows to post (no email, an unusable email, contact=post) and one with contact=none.
header=$(head -n 1 examples/cases.csv),contact,safe_to_contact,victim_id
name_of() {
    case $1 in
    en) echo "Jane Smith" ;; pl) echo "Agnieszka Wiśniewska" ;; ro) echo "Ioana Popescu" ;;
    ar) echo "أمير حداد" ;; fa) echo "مریم رضایی" ;; ur) echo "عائشہ خان" ;; pa) echo "ਹਰਪ੍ਰੀਤ ਕੌਰ" ;; zh-Hans) echo "王小明" ;;
    esac
}
make_row() { # ref lang email offence contact safe postcode victim_id [name]
    grep -F 'NC/2024/012345,' examples/cases.csv | REF=$1 L=$2 E=$3 O=$4 C=$5 S=$6 P=$7 V=$8 N=${9:-Jane Smith} \
        perl -MText::ParseWords -ne '
        chomp; my @f = parse_line(",", 0, $_);
        $f[0] = $ENV{REF}; $f[1] = $ENV{L}; $f[8] = $ENV{E}; $f[9] = $ENV{O}; $f[7] = $ENV{P}; $f[2] = $ENV{N};
        push @f, $ENV{C}, $ENV{S}, $ENV{V};
        print join(",", map { my $v = $_ // ""; $v =~ /[",\n]/ ? do { $v =~ s/"/""/g; "\"$v\"" } : $v } @f), "\n"'
}
{
    echo "$header"
    i=0
    for lang in en pl ro ar fa ur pa zh-Hans; do
        i=$((i + 1))
        make_row "DL/2024/00010$i" "$lang" "victim$i@example.org" theft "" "" "NT1 4AB" "V-10$i" "$(name_of "$lang")"
    done
    for off in domestic_abuse sexual_offence harassment; do
        for s in Y N U E; do
            safe=$(case $s in Y) echo yes ;; N) echo no ;; U) echo unknown ;; E) echo "" ;; esac)
            make_row "DL/2024/${off:0:3}-$s" en "v-${off:0:3}-$s@example.org" "$off" "" "$safe" "NT1 4AB" "V-$off-$s"
        done
    done
    make_row DL/2024/000201 en "" theft "" "" "NT9 1AA" V-201
    make_row DL/2024/000202 pl "not-an-address" theft "" "" "NT2 3BB" V-202
    make_row DL/2024/000203 en "post.please@example.org" theft post "" "NT1 1AA" V-203
    make_row DL/2024/000204 en "none@example.org" theft none "" "NT1 1AA" V-204
    make_row DL/2024/000205 en "" theft "" no "NT1 1AA" V-205
} >"$tmp/cases.csv"

start_server main || exit 0
url="smtp://127.0.0.1:$port"
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/out" --smtp "$url" --config "$tmp/mail.conf" 2>"$tmp/err"
rc=$?
check delivery.batch_runs "[ $rc -eq 0 ]" "exit $rc: $(tail -n 20 "$tmp/err")"
rep="$tmp/out/report.csv"
col() { # ref column: a column of report.csv for a crime reference
    REF=$1 COL=$2 perl -MText::ParseWords -ne 'chomp; my @f = parse_line(",", 0, $_);
        if ($. == 1) { my $i = 0; %c = map { $_ => $i++ } @f; next }
        print $f[$c{$ENV{COL}}] if $f[2] eq $ENV{REF}' "$rep"
}
mails() { ls "$tmp/main"/*.eml 2>/dev/null | wc -l; }
check delivery.mailbox_count "[ \$(mails) -eq 11 ]" "$(mails) messages: $(cut -c1-150 "$rep")"

# Every message sent: parsed by Python's email package against the row, its PDF and its language.
for i in 1 2 3 4 5 6 7 8; do
    ref="DL/2024/00010$i"
    lang=$(col "$ref" language)
    dir=ltr
    case $lang in ar | fa | ur) dir=rtl ;; esac
    id=$(col "$ref" message_id)
    file=$(grep -il "^Message-ID: <$id>" "$tmp/main"/*.eml 2>/dev/null | head -n 1)
    if [ -z "$file" ]; then fail "delivery.message.$lang" "no message with Message-ID $id"; continue; fi
    pdf="$tmp/out/$(col "$ref" file)"
    "$py" tests/check_eml.py "$file" --to "$(name_of "$lang")" "victim$i@example.org" --message-id "$id" \
        --from "Northshire Police Victim Care" victim.letters@northshire.police.example \
        --reply-to "" victim.care@northshire.police.example --text "$ref" --text "0300 555 0147" \
        --text "Northshire Police Victim Care Unit" \
        --lang "$lang" --dir "$dir" --pdf "$pdf" --filename "$(basename "$pdf")" >"$tmp/check" 2>&1
    check "delivery.message.$lang" "grep -qx ok '$tmp/check'" "$(head -n 5 "$tmp/check")"
    check "delivery.subject_names_no_offence.$lang" "$py -c '
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], \"rb\"), policy=email.policy.default)
s = str(m[\"subject\"]); sys.exit(0 if \"$ref\" in s and \"heft\" not in s else 1)' '$file'" "$(grep -i '^subject' "$file")"
done

# Safety: a sensitive offence goes only with safe_to_contact=yes; "no" never goes.
for off in domestic_abuse sexual_offence harassment; do
    p=${off:0:3}
    check "delivery.safe.$off.yes_sent" "[ \"\$(col DL/2024/$p-Y delivery)\" = sent ]" "$(col DL/2024/$p-Y message)"
    for s in N U E; do
        check "delivery.safe.$off.$s.withheld" "[ \"\$(col DL/2024/$p-$s delivery)\" = withheld ] && [ -s '$tmp/out/DL-2024-$p-${s}_en.pdf' ] && ! grep -rqi '^To: .*v-$p-$s@' '$tmp/main'" \
            "$(col DL/2024/$p-$s delivery): $(col DL/2024/$p-$s message)"
    done
done
check delivery.not_safe_never "[ \"\$(col DL/2024/000205 delivery)\" = withheld ]" "$(col DL/2024/000205 message)"
check delivery.post_without_email "[ \"\$(col DL/2024/000201 delivery)\" = posted ]" "$(col DL/2024/000201 message)"
check delivery.bad_email_posts "[ \"\$(col DL/2024/000202 delivery)\" = posted ] && col DL/2024/000202 message | grep -q 'posted instead' && ! col DL/2024/000202 message | grep -q not-an-address" \
    "$(col DL/2024/000202 message)"
check delivery.contact_post "[ \"\$(col DL/2024/000203 delivery)\" = posted ]" "$(col DL/2024/000203 message)"
check delivery.contact_none "[ \"\$(col DL/2024/000204 delivery)\" = no_route ]" "$(col DL/2024/000204 message)"
check delivery.summary_lists_officer_rows "grep -q 'DL/2024/000204 en: no contact route' '$tmp/err' && grep -q 'DL/2024/dom-N en: withheld' '$tmp/err'" \
    "$(grep -A 20 summary "$tmp/err" | head -30)"

# The post pile: sorted by postcode, every letter an even number of pages.
check delivery.post_pile "qpdf --check '$tmp/out/to-post.pdf' >/dev/null 2>&1 && [ \$(( \$(qpdf --show-npages '$tmp/out/to-post.pdf') % 2 )) -eq 0 ]" "no good to-post.pdf"
order=$(pdftotext "$tmp/out/to-post.pdf" - 2>/dev/null | grep -oE 'NT[0-9] [0-9][A-Z]{2}' | uniq | tr '\n' ' ')
check delivery.post_pile_order "[ \"\$order\" = 'NT1 1AA NT2 3BB NT9 1AA ' ]" "postcodes in the pile: $order"

# records.csv: one line per event, ready for the records system.
check delivery.records "[ \$(grep -c '\"sent\"' '$tmp/out/records.csv') -eq 11 ] && [ \$(grep -c '\"posted\"' '$tmp/out/records.csv') -eq 3 ]" \
    "$(cut -c1-120 "$tmp/out/records.csv")"
cp "$tmp/out/records.csv" "$tmp/records.before"

# A rerun sends nothing twice; records.csv only grows.
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/out" --smtp "$url" --config "$tmp/mail.conf" 2>"$tmp/err2"
rc=$?
check delivery.rerun_sends_nothing "[ $rc -eq 0 ] && [ \$(mails) -eq 11 ] && [ \"\$(col DL/2024/000101 delivery)\" = already_done ]" \
    "exit $rc, $(mails) messages: $(col DL/2024/000101 message)"
check delivery.records_only_grow "cmp -s '$tmp/records.before' <(head -c \$(stat -c %s '$tmp/records.before') '$tmp/out/records.csv')" \
    "the old records are not a prefix of the new"
# A row changed after it was sent: reported, not resent; sent again with --resend.
sed 's/^\(DL\/2024\/000101,en,\)Jane Smith/\1Jane Smith-Jones/' "$tmp/cases.csv" >"$tmp/changed.csv"
"$vipgen" letter "$tmp/changed.csv" -o "$tmp/out" --smtp "$url" --config "$tmp/mail.conf" 2>"$tmp/err3"
check delivery.changed_not_resent "[ \$(mails) -eq 11 ] && [ \"\$(col DL/2024/000101 delivery)\" = changed ]" "$(col DL/2024/000101 message)"
"$vipgen" letter "$tmp/changed.csv" -o "$tmp/out" --smtp "$url" --config "$tmp/mail.conf" --resend DL/2024/000101 2>"$tmp/err4"
check delivery.resend "[ \$(mails) -eq 12 ] && [ \"\$(col DL/2024/000101 delivery)\" = sent ]" "$(mails) messages: $(col DL/2024/000101 message)"

# Faults: 421 then 250 (retried), 550 (recorded with the reply, not retried), dropped in DATA (uncertain).
start_server faults --fault "victim1@example.org=421-once" --fault "victim2@example.org=550" \
    --fault "victim3@example.org=drop-in-data" --events "$tmp/faults.events" || exit 0
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/f" --smtp "smtp://127.0.0.1:$port" --config "$tmp/mail.conf" 2>"$tmp/err"
rc=$?
rep="$tmp/f/report.csv"
check delivery.exit_7_when_undelivered "[ $rc -eq 7 ]" "exit $rc"
check delivery.fault_421_retried "[ \"\$(col DL/2024/000101 delivery)\" = sent ]" "$(col DL/2024/000101 message)"
check delivery.fault_550_recorded "[ \"\$(col DL/2024/000102 delivery)\" = failed ] && col DL/2024/000102 message | grep -q '550 5.7.1 Message refused'" \
    "$(col DL/2024/000102 message)"
check delivery.fault_drop_uncertain "[ \"\$(col DL/2024/000103 delivery)\" = uncertain ]" "$(col DL/2024/000103 message)"
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/f" --smtp "smtp://127.0.0.1:$port" --config "$tmp/mail.conf" 2>"$tmp/err"
check delivery.uncertain_not_resent "[ \"\$(col DL/2024/000103 delivery)\" = uncertain ] && [ \$(grep -c 'fault drop' '$tmp/faults.events') -eq 1 ]" \
    "$(col DL/2024/000103 message); $(grep -c 'fault drop' "$tmp/faults.events") drops"
check delivery.failed_retried_on_rerun "[ \"\$(col DL/2024/000102 delivery)\" = failed ] && [ \$(grep -c 'fault 550' '$tmp/faults.events') -eq 2 ] && [ \$(grep -c '\"DL/2024/000102\".*\"failed\"' '$tmp/f/records.csv') -eq 2 ]" \
    "$(col DL/2024/000102 message)"

# A server that is down: nothing lost; a rerun once it is up sends.
start_server down --down 4 || exit 0
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/down" --smtp "smtp://127.0.0.1:$port" --config "$tmp/mail.conf" 2>"$tmp/err"
rc=$?
check delivery.down_refused_first "[ $rc -ne 0 ] && grep -qi '127.0.0.1' '$tmp/err' && ! ls '$tmp/down'/*.pdf >/dev/null 2>&1" \
    "exit $rc: $(tail -n 3 "$tmp/err")"
sleep 4
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/down" --smtp "smtp://127.0.0.1:$port" --config "$tmp/mail.conf" 2>"$tmp/err"
check delivery.down_then_up "[ \$(ls '$tmp/down' | grep -c '\\.pdf\$') -ge 20 ] && grep -q '11 sent' '$tmp/err'" \
    "$(tail -n 2 "$tmp/err")"

# Refused before anything is produced or sent: wrong password, a URL without a scheme.
printf 'bureau\nwrong\n' >"$tmp/badauth"
chmod 600 "$tmp/badauth"
sed "s|credentials_file = .*|credentials_file = $tmp/badauth|" "$tmp/mail.conf" >"$tmp/bad.conf"
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/bad" --smtp "$url" --config "$tmp/bad.conf" 2>"$tmp/err"
rc=$?
check delivery.wrong_password "[ $rc -ne 0 ] && grep -q '535' '$tmp/err' && ! grep -q wrong '$tmp/err' && ! ls '$tmp/bad'/*.pdf >/dev/null 2>&1" \
    "exit $rc: $(cat "$tmp/err")"
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/bad2" --smtp "127.0.0.1:$port" --config "$tmp/mail.conf" 2>"$tmp/err"
rc=$?
check delivery.url_without_scheme "[ $rc -ne 0 ] && grep -qi 'scheme\\|smtp://' '$tmp/err' && ! ls '$tmp/bad2'/*.pdf >/dev/null 2>&1" "exit $rc: $(cat "$tmp/err")"
chmod 644 "$tmp/auth"
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/bad3" --smtp "$url" --config "$tmp/mail.conf" 2>"$tmp/err"
check delivery.credentials_private "grep -q 'can be read by other users' '$tmp/err'" "$(cat "$tmp/err")"
chmod 600 "$tmp/auth"
# Credentials from the environment instead of a file.
conf | grep -v credentials_file >"$tmp/env.conf"
VIPGEN_SMTP_USER=bureau VIPGEN_SMTP_PASSWORD=s3cret-Pa55 "$vipgen" letter "$tmp/cases.csv" -o "$tmp/env" --ref DL/2024/000104 \
    --smtp "$url" --config "$tmp/env.conf" 2>"$tmp/err"
check delivery.credentials_from_environment "grep -q '1 sent' '$tmp/err'" "$(tail -n 2 "$tmp/err")"
check delivery.ref_run_keeps_report "[ -s '$tmp/env/report-DL-2024-000104.csv' ] && [ ! -e '$tmp/env/report.csv' ]" "$(ls "$tmp/env")"

# A pickup folder: one .eml per message, each parsed by Python's email package.
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/pick" --eml "$tmp/pick/outgoing" --config "$tmp/mail.conf" 2>"$tmp/err"
n=0
bad=""
for f in "$tmp"/pick/outgoing/*.eml; do
    n=$((n + 1))
    "$py" tests/check_eml.py "$f" >"$tmp/check" 2>&1 || bad="$bad $(basename "$f"): $(head -n 2 "$tmp/check")"
done
check delivery.eml_files_parse "[ $n -eq 11 ] && [ -z \"\$bad\" ]" "$n files;$bad"

# kill -9 of the batch while it sends 2,000 letters, then a rerun: every Message-ID in the mailbox exactly once,
# apart from those listed as uncertain.
start_server bigmail --workers 2 || exit 0
bigurl="smtp://127.0.0.1:$port"
{
    echo "$header"
    for i in $(seq 1 2000); do
        printf 'KL/2024/%06d,en,Jane Smith,14 Acacia Avenue,,,Northtown,NT1 4AB,k%d@example.org,theft,2024-03-02,' "$i" "$i"
        printf '2024-03-03,Northtown,PC Daniel Okafor,Investigating officer,0300 555 0147,,completed,referred,no,,'
        printf '2024-03-05,,,K-%d\n' "$i"
    done
} >"$tmp/big.csv"
"$vipgen" letter "$tmp/big.csv" -o "$tmp/bigout" --smtp "$bigurl" --config "$tmp/mail.conf" --quiet 2>"$tmp/big-err" &
batch=$!
for _ in $(seq 1 1800); do # at most 3 minutes: letters are made first, then sent
    [ "$(ls "$tmp/bigmail" | grep -c '\.eml$')" -ge 300 ] && break
    kill -0 "$batch" 2>/dev/null || break
    sleep 0.1
done
kill -9 "$batch" 2>/dev/null
wait "$batch" 2>/dev/null
before=$(ls "$tmp/bigmail" | grep -c '\.eml$')
check delivery.killed_mid_send "[ $before -ge 300 ] && [ $before -lt 2000 ]" "$before messages when the batch was killed"
"$vipgen" letter "$tmp/big.csv" -o "$tmp/bigout" --smtp "$bigurl" --config "$tmp/mail.conf" --quiet 2>"$tmp/big-err2"
rc=$?
# Every row's Message-ID: sent (or already sent) rows exactly once in the mailbox; only uncertain ones may be
# missing or (never here, but allowed) twice.
/usr/bin/python3 - "$tmp/bigout/report.csv" "$tmp/bigmail" >"$tmp/once" 2>&1 <<'PY'
import csv, email, email.policy, glob, sys, collections
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
seen = collections.Counter()
for f in glob.glob(sys.argv[2] + "/*.eml"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    seen[str(m["message-id"]).strip("<> ")] += 1
bad = []
uncertain = {r["message_id"] for r in rows if r["delivery"] == "uncertain"}
for r in rows:
    n = seen.get(r["message_id"], 0)
    if r["delivery"] in ("sent", "already_done") and n != 1:
        bad.append(f'{r["crime_ref"]} {r["delivery"]} {n} times')
    if r["delivery"] not in ("sent", "already_done", "uncertain"):
        bad.append(f'{r["crime_ref"]} {r["delivery"]}')
extra = [i for i, n in seen.items() if n > 1 and i not in uncertain]
print(f"{len(rows)} rows, {sum(seen.values())} messages, {len(uncertain)} uncertain; problems: {bad[:5]} {extra[:5]}")
sys.exit(1 if bad or extra or len(rows) != 2000 else 0)
PY
check delivery.after_kill_every_letter_once "[ $rc -eq 0 -o $rc -eq 7 ] && [ \$(tail -n 1 '$tmp/once' | grep -c 'problems: \[\] \[\]') -eq 1 ]" \
    "exit $rc: $(cat "$tmp/once"); $(tail -n 2 "$tmp/big-err2")"

# A journal from another batch, or a corrupt one: refused with the reason, nothing overwritten.
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/other" --deliver --config "$tmp/mail.conf" --quiet --journal "$tmp/out/journal.sqlite" 2>"$tmp/err"
rc=$?
check delivery.journal_of_another_batch "[ $rc -ne 0 ] && grep -qi 'journal' '$tmp/err' && grep -q '$tmp/out' '$tmp/err' && ! ls '$tmp/other'/*.pdf >/dev/null 2>&1" \
    "exit $rc: $(cat "$tmp/err")"
mkdir -p "$tmp/corrupt"
head -c 8192 /dev/urandom >"$tmp/corrupt/journal.sqlite"
cp "$tmp/corrupt/journal.sqlite" "$tmp/corrupt.before"
"$vipgen" letter "$tmp/cases.csv" -o "$tmp/corrupt" --deliver --config "$tmp/mail.conf" --quiet 2>"$tmp/err"
rc=$?
check delivery.corrupt_journal_refused "[ $rc -ne 0 ] && grep -qi 'journal' '$tmp/err' && cmp -s '$tmp/corrupt.before' '$tmp/corrupt/journal.sqlite' && ! ls '$tmp/corrupt'/*.pdf >/dev/null 2>&1" \
    "exit $rc: $(cat "$tmp/err")"

# A disk that fills in the middle of a batch: the journal stays consistent, and a rerun with room finishes the job.
if mkdir -p "$tmp/small" && mount -t tmpfs -o size=900k tmpfs "$tmp/small" 2>/dev/null; then
    { echo "$header"; for i in $(seq 1 40); do make_row "DF/2024/$(printf %06d "$i")" en "" theft "" "" "NT1 4AB" "D-$i"; done; } >"$tmp/full.csv"
    "$vipgen" letter "$tmp/full.csv" -o "$tmp/small/out" --deliver --config "$tmp/mail.conf" --quiet --jobs 1 2>"$tmp/err"
    rc=$?
    check delivery.disk_full_stops "[ $rc -ne 0 ]" "exit $rc"
    check delivery.disk_full_journal_sound "[ \"\$(/usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"pragma integrity_check\").fetchone()[0])' '$tmp/small/out/journal.sqlite' 2>&1)\" = ok ]" \
        "$(tail -n 3 "$tmp/err")"
    mount -o remount,size=20m "$tmp/small"
    "$vipgen" letter "$tmp/full.csv" -o "$tmp/small/out" --deliver --config "$tmp/mail.conf" --quiet --jobs 1 2>"$tmp/err"
    rc=$?
    check delivery.disk_full_rerun_finishes "[ $rc -eq 0 ] && [ \$(grep -c '\"posted\"' '$tmp/small/out/records.csv') -eq 40 ] && [ \$(qpdf --show-npages '$tmp/small/out/to-post.pdf') -ge 80 ]" \
        "exit $rc: $(tail -n 3 "$tmp/err")"
    umount "$tmp/small"
else
    echo "INFO delivery.disk_full: cannot mount a tmpfs here; not checked"
fi
