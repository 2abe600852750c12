#!/usr/bin/env bash
# Writes the sample page of every language to OUT/samples/<lang>.pdf.
set -eu
vipgen=${1:-build/vipgen}
out=${2:-out}
mkdir -p "$out/samples"
for f in examples/samples/*.txt; do
    lang=$(basename "$f" .txt)
    "$vipgen" render "$f" --lang "$lang" -o "$out/samples/$lang.pdf"
    echo "wrote $out/samples/$lang.pdf"
done
