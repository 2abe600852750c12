#!/usr/bin/env bash
# The libFuzzer harnesses (tests/fuzz/), each run briefly on its seed corpus under ASan and UBSan: any sanitizer
# report, broken invariant, leak or timeout fails it. New corpus entries go to a temporary directory, crash files
# to a directory under $TMPDIR (or /tmp) that is kept when something failed, so that they can be replayed; neither
# is in the repository. VIPGEN_FUZZ_SECONDS sets the time per harness (default 8).
. "$(dirname "$0")/lib.sh"

seconds=${VIPGEN_FUZZ_SECONDS:-8}
crashes=$(mktemp -d "${TMPDIR:-/tmp}/vipgen-fuzz-crashes.XXXXXX") || exit 1
trap 'rm -rf "$tmp"; find "$crashes" -depth -type d -empty -delete' EXIT
harnesses=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')

if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
    for h in $harnesses; do fail "$h" "clang is not installed (make deps installs the Makefile's DEBS)"; done
    exit 1
fi
if ! make --no-print-directory -j2 fuzz-build >"$tmp/build.log" 2>&1; then
    for h in $harnesses; do fail "$h" "make fuzz-build failed"; done
    grep -E 'error|Error' "$tmp/build.log" | head -n 20 | sed 's/^/    /'
    exit 1
fi

for h in $harnesses; do
    mkdir -p "$tmp/corpus/$h" "$crashes/$h"
    dict=()
    [ -f "tests/fuzz/$h.dict" ] && dict=("-dict=tests/fuzz/$h.dict")
    # -max_total_time bounds the fuzzing; timeout bounds everything else (loading the seeds, a stuck input).
    # The harnesses' scratch files go under $tmp too (a crashing process leaves its own behind).
    TMPDIR="$tmp" timeout -k 10 $((seconds + 120)) "build-fuzz/$h" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
        -print_final_stats=1 "${dict[@]}" -artifact_prefix="$crashes/$h/" \
        "$tmp/corpus/$h" "tests/fuzz/corpus/$h" >"$tmp/$h.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$h.log" | tail -n 1)
    if [ "$rc" -eq 0 ] && [ -n "$runs" ] && [ "$runs" -gt 0 ]; then
        pass "$h"
        echo "INFO $h: ${runs} inputs in ${seconds} s"
        continue
    fi
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$tmp/$h.log" | tail -n 1)
    fail "$h" "exit status $rc${crash:+, input $crash (replay: build-fuzz/$h $crash)}"
    if [ -n "$crash" ] && [ -f "$crash" ]; then
        echo "    input (hex, first 256 bytes): $(head -c 256 "$crash" | od -An -tx1 -v | tr -s ' \n' ' ')"
    fi
    # The first lines of the report: the sanitizer's, a broken invariant, libFuzzer's own (leak, timeout, OOM).
    grep -m1 -n -E '^==[0-9]+==ERROR|runtime error:|fuzz invariant failed|ERROR: libFuzzer|^ALARM|fuzz harness setup' \
        "$tmp/$h.log" | cut -d: -f1 | {
        read -r first && sed -n "${first},$((first + 24))p" "$tmp/$h.log" || tail -n 25 "$tmp/$h.log"
    } | sed -e 's/ (BuildId: [0-9a-f]*)//' -e 's/^/    /'
done
