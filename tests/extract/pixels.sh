#!/usr/bin/env bash
# Proves that a change to the PDF writer's text layer leaves every rendered pixel as it was. Builds vipgen twice
# from one snapshot of the working tree, once as it is and once with generator/output/pdf.c and pdf.h as at REF (default
# HEAD), renders with each every booklet, every letter of examples/cases.csv and tests/extract/cases.csv and every
# examples/samples/*.txt, draws every page with `pdftoppm -r 100 -png` and compares the PNGs byte for byte.
#     tests/extract/pixels.sh [REF]
# Prints one line per document, "same" or "DIFFERENT" (pages named), and exits non-zero on any difference or
# failure. Not run by make test (two builds and some 200 pages); run it before committing a pdf.c change.
set -u
ref=${1:-HEAD}
cd "$(dirname "$0")/../.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
langs="en pl ro ar fa ur pa zh-Hans"

# One snapshot of the tree (others may be editing it), copied twice; only the PDF writer differs.
tar -c --exclude='./build*' --exclude='./out' --exclude='./.git' --exclude='./tests/extract/node_modules' \
    --exclude='./tests/fuzz/corpus' . | (mkdir "$tmp/after" && tar -x -C "$tmp/after") || exit 1
cp -a "$tmp/after" "$tmp/before"
for f in generator/output/pdf.c generator/output/pdf.h; do
    # (before the tree was grouped by stage, the PDF writer was generator/pdf.c)
    git show "$ref:$f" >"$tmp/before/$f" 2>/dev/null || git show "$ref:generator/${f##*/}" >"$tmp/before/$f" ||
        { echo "pixels: no $f at $ref" >&2; exit 1; }
done
for side in before after; do
    if ! make -C "$tmp/$side" -j2 BUILD=b b/vipgen >"$tmp/$side.build.log" 2>&1; then
        echo "pixels: build ($side) failed:" >&2
        tail -n 20 "$tmp/$side.build.log" >&2
        exit 1
    fi
done

status=0
render() { # side name command...: runs a vipgen command in that side's tree, PDFs into $tmp/side/pdf/
    local side=$1 name=$2; shift 2
    (cd "$tmp/$side" && ./b/vipgen "$@") >"$tmp/$side.log" 2>&1
    local rc=$?
    # 6 is "some letters failed": rows of the example data that are bad on purpose.
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 6 ]; then
        echo "pixels: $name ($side) failed with status $rc: $(tail -n 2 "$tmp/$side.log" | tr '\n' ' ')" >&2
        status=1
    fi
}
for side in before after; do
    out="$tmp/$side/pdf"
    mkdir -p "$out"
    for lang in $langs; do
        render "$side" "booklet $lang" booklet --lang "$lang" -o "$out/booklet-$lang.pdf"
    done
    for csv in examples/cases.csv tests/extract/cases.csv; do
        name=$(basename "$(dirname "$csv")")
        render "$side" "letters of $csv" letter "$csv" -o "$out/letters-$name"
    done
    for txt in examples/samples/*.txt; do
        lang=$(basename "$txt" .txt)
        render "$side" "sample $lang" render "$txt" --lang "$lang" -o "$out/sample-$lang.pdf"
    done
done

same=0
while IFS= read -r pdf; do
    rel=${pdf#"$tmp/after/pdf/"}
    old="$tmp/before/pdf/$rel"
    if [ ! -f "$old" ]; then
        echo "DIFFERENT $rel: only after the change"; status=1; continue
    fi
    mkdir -p "$tmp/png/before/$rel" "$tmp/png/after/$rel"
    pdftoppm -r 100 -png "$old" "$tmp/png/before/$rel/p" && pdftoppm -r 100 -png "$pdf" "$tmp/png/after/$rel/p" || {
        echo "pixels: pdftoppm failed on $rel" >&2; status=1; continue; }
    diffs=$(diff -rq "$tmp/png/before/$rel" "$tmp/png/after/$rel" 2>&1 | sed -n 's|.*/p-\{0,1\}\([0-9]*\)\.png.*|\1|p;s|^Only in .*: p-\([0-9]*\)\.png|\1|p' | sort -un | tr '\n' ' ')
    if diff -rq "$tmp/png/before/$rel" "$tmp/png/after/$rel" >/dev/null; then
        same=$((same + 1))
        echo "same $rel ($(ls "$tmp/png/after/$rel" | wc -l) pages)"
    else
        echo "DIFFERENT $rel: pages $diffs"
        status=1
    fi
done < <(find "$tmp/after/pdf" -name '*.pdf' | sort)
before_count=$(find "$tmp/before/pdf" -name '*.pdf' | wc -l)
after_count=$(find "$tmp/after/pdf" -name '*.pdf' | wc -l)
[ "$before_count" -eq "$after_count" ] || { echo "DIFFERENT: $before_count PDFs before, $after_count after"; status=1; }
echo "pixels: $same of $after_count documents rendered the same (pdf.c and pdf.h against $ref)"
exit $status
