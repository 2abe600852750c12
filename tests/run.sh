#!/usr/bin/env bash
# Runs every test: the unit-test programs (normal and sanitizer builds), valgrind on the PDF path, and the
# end-to-end checks of the built program. Each test prints PASS/FAIL lines; this counts them and ends with
# "N passed, N failed", exiting non-zero on any failure.
set -u
build=${1:-build}
asan=${2:-}
cd "$(dirname "$0")/.."
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0
failed=0

run() { # name command...: runs a test program, counts its PASS/FAIL lines; a crash or non-zero exit is a failure.
    local name=$1; shift
    local out="$log/out"
    "$@" >"$out" 2>"$log/err"
    local rc=$?
    local p f
    p=$(grep -ac '^PASS ' "$out")
    f=$(grep -ac '^FAIL ' "$out")
    grep -aE '^(FAIL|INFO) ' "$out" | sed "s|^|[$name] |"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "[$name] FAIL: exited with status $rc"
        tail -n 20 "$log/err" | sed "s|^|[$name]   |"
        f=1
    fi
    echo "$name: $p passed, $f failed"
    passed=$((passed + p))
    failed=$((failed + f))
}

for t in "$build"/tests/test_*; do
    [ -x "$t" ] && [ "${t%.o}" = "$t" ] || continue
    run "$(basename "$t")" "$t"
done
if [ -n "$asan" ]; then
    for t in "$asan"/tests/test_*; do
        [ -x "$t" ] && [ "${t%.o}" = "$t" ] || continue
        run "asan:$(basename "$t")" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$t"
    done
fi
for t in tests/e2e/*.sh; do
    [ -x "$t" ] || continue
    run "$(basename "$t" .sh)" "$t" "$build/vipgen"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
