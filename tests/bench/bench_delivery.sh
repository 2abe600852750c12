#!/usr/bin/env bash
# make bench: the delivery stage. Letters emailed per second to a local SMTP server (tests/smtp_server.py, Debian's
# aiosmtpd, plain SMTP on 127.0.0.1 with two server processes), and the journal's cost per letter, each as the extra
# time over making the same letters without delivery. The rate includes the Python server's own time.
set -u
vipgen=${1:-build/vipgen}
cd "$(dirname "$0")/../.." || exit 1
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
n=${BENCH_DELIVERY_ROWS:-1000}
langs=(en pl ro ar fa ur pa zh-Hans)
{
    printf '%s,contact,victim_id\n' "$(head -n 1 examples/cases.csv)"
    for i in $(seq 1 "$n"); do
        l=${langs[$((i % 8))]}
        printf 'BD/2024/%06d,%s,Jane Smith,14 Acacia Avenue,,,Northtown,NT1 4AB,v%d@example.org,theft,2024-03-02,' "$i" "$l" "$i"
        printf '2024-03-03,Northtown,PC Daniel Okafor,Investigating officer,0300 555 0147,,completed,referred,no,,'
        printf '2024-03-05,%s,B-%d\n' "${CONTACT:-}" "$i"
    done
} >"$tmp/cases.csv"
sed 's/,B-\([0-9]*\)$/none,B-\1/; s/,,B-/,none,B-/' "$tmp/cases.csv" >"$tmp/none.csv"
printf '[mail]\nfrom = Northshire Police <letters@northshire.police.example>\nstarttls = optional\nconnections = 4\n' >"$tmp/mail.conf"
mkdir -p "$tmp/mailbox"
/usr/bin/python3 tests/smtp_server.py --mailbox "$tmp/mailbox" --port 0 --workers 2 --time-limit 600 >"$tmp/port" 2>"$tmp/server.log" &
server=$!
for _ in $(seq 1 100); do
    port=$(sed -n 's/^PORT //p' "$tmp/port")
    [ -n "$port" ] && break
    sleep 0.1
done
# The shortest of three runs (wall clock), each into a fresh directory; and the CPU seconds of the last (user+sys).
seconds() { # OUT_DIR command...
    local best="" s e out=$1 i
    shift
    for i in 1 2 3; do
        rm -rf "$out"
        s=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}
cpu() { # CPU seconds of a command (children included)
    /usr/bin/python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ru_utime + r.ru_stime)' "$@"
}
t0=$(seconds "$tmp/plain" "$vipgen" letter "$tmp/cases.csv" -o "$tmp/plain" --quiet --config "$tmp/mail.conf")
t1=$(seconds "$tmp/mail" "$vipgen" letter "$tmp/cases.csv" -o "$tmp/mail" --quiet --config "$tmp/mail.conf" --smtp "smtp://127.0.0.1:$port")
got=$(($(ls "$tmp/mailbox" | grep -c '\.eml$') / 3))
rm -rf "$tmp/plain" "$tmp/journal"
c0=$(cpu "$vipgen" letter "$tmp/cases.csv" -o "$tmp/plain" --quiet --config "$tmp/mail.conf")
c2=$(cpu "$vipgen" letter "$tmp/none.csv" -o "$tmp/journal" --quiet --config "$tmp/mail.conf" --deliver)
t2=$c2
printf 'delivery, %d letters in 8 languages:\n' "$n"
printf '  letters made, no delivery:        %6.2f s wall\n' "$t0"
printf '  made and emailed (%d arrived a run): %6.2f s wall  ->  %.0f emails per second for the sending\n' "$got" "$t1" \
    "$(echo "$n / ($t1 - $t0)" | bc -l)"
printf '  CPU, no delivery: %.2f s; with the journal and records (no email): %.2f s  ->  %.2f ms of CPU a letter\n' \
    "$c0" "$c2" "$(echo "($c2 - $c0) * 1000 / $n" | bc -l)"
