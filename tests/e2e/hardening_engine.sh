#!/usr/bin/env bash
# Hostile input to the engine (render, templates, catalogues, the schema): bounded time, refusals that name the
# file and line, and nothing printed by the libraries themselves.
. "$(dirname "$0")/lib.sh"

# Seconds the command took (it must also succeed); "fail" when it did not finish or failed.
timed() { # limit command...
    local limit=$1
    shift
    local t0 t1
    t0=$(date +%s.%N)
    if timeout "$limit" "$@" >"$tmp/out" 2>"$tmp/err"; then
        t1=$(date +%s.%N)
        echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}'
    else
        echo fail
    fi
}

# F5: a word longer than any line is cut between graphemes in time linear in its length (it was quadratic:
# 2 MB took 90 s). 2 MB of one Latin word, and 1 MB of one Arabic word (right to left, joined letters).
python3 -c "print('a' * (2 << 20))" >"$tmp/word.txt"
s=$(timed 60 "$vipgen" render "$tmp/word.txt" --lang en -o "$tmp/word.pdf")
check long_word.latin_2mb_in_seconds '[ "$s" != fail ] && awk "BEGIN{exit !($s < 20)}"' \
    "took ${s} s (limit 20 s): $(head -c 300 "$tmp/err")"
python3 -c "print('بسمالله' * (1 << 17))" >"$tmp/word_ar.txt"
s=$(timed 60 "$vipgen" render "$tmp/word_ar.txt" --lang ar -o "$tmp/word_ar.pdf")
check long_word.arabic_1mb_in_seconds '[ "$s" != fail ] && awk "BEGIN{exit !($s < 20)}"' \
    "took ${s} s (limit 20 s): $(head -c 300 "$tmp/err")"
