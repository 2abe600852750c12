# Shared by the end-to-end scripts (sourced, not run): the program under test, the repository root as working
# directory, a temporary directory removed on exit, and the PASS/FAIL lines tests/run.sh counts.
set -u
vipgen=${1:-build/vipgen}
cd "$(dirname "$0")/../.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
check() { if eval "$2"; then pass "$1"; else fail "$1" "$3"; fi; }

# The letters a batch wrote, from its report.csv: one "row,crime_ref,language,file" line per row whose status is ok;
# given the case file too, the row's officer_email is added as a fifth field.
letters_written() { # report.csv [cases.csv]
    /usr/bin/python3 -c '
import csv, sys
cases = list(csv.DictReader(open(sys.argv[2], encoding="utf-8"))) if len(sys.argv) > 2 else None
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    if r["status"] == "ok":
        out = [r["row"], r["crime_ref"], r["language"], r["file"]]
        if cases is not None:
            out.append(cases[int(r["row"]) - 1].get("officer_email", "").strip() if r["row"].isdigit() else "")
        print(",".join(out))' "$@"
}
