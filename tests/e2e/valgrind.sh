#!/usr/bin/env bash
# The whole PDF path under valgrind, in the scripts that exercise the most code (Arabic with Latin inside,
# Nastaliq, Gurmukhi, CFF Chinese): no memory errors, no leaks.
set -u
vipgen=${1:-build/vipgen}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for lang in ar ur pa zh-Hans; do
    if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$vipgen" render "examples/samples/$lang.txt" --lang "$lang" -o "$tmp/$lang.pdf" 2>"$tmp/vg"; then
        echo "PASS valgrind.$lang"
    else
        echo "FAIL valgrind.$lang: $(head -c 1500 "$tmp/vg")"
    fi
done
