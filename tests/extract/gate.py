#!/usr/bin/python3
"""Turns check.py's figures into a regression gate and a report.

    gate.py BASELINE RESULT              INFO, PASS and FAIL lines per document and engine
    gate.py --record BASELINE RESULT     writes RESULT's figures as the new BASELINE

RESULT is check.py's output (RESULT and MISSING lines). BASELINE has one figure a line,
LABEL ENGINE CATEGORY FOUND TOTAL, as recorded from the current main. The target is every string of every category
(100 %); the gate is the baseline: a document and engine fails when, in some category, more strings are missing
than the baseline allows (a count of missing strings, so that a catalogue gaining or losing a phone number does not
move the gate). A figure with no baseline must be at its target. Improvements are printed so that the baseline can
be raised (run tests/e2e/extract.sh with EXTRACT_RECORD=tests/extract/baseline.txt)."""
import collections
import os
import sys

HEADER = """\
# Copy and search figures the gate in tests/e2e/extract.sh holds (tests/extract/gate.py): per document, engine and
# category, the strings found and the strings expected. The target is found = expected everywhere; a figure may
# only rise. Recorded by: EXTRACT_RECORD=tests/extract/baseline.txt tests/e2e/extract.sh build/vipgen
# LABEL ENGINE CATEGORY FOUND TOTAL
"""


def read_result(path):
    results = collections.OrderedDict()
    missing = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 4)
            if parts[0] == "RESULT" and len(parts) == 5:
                _, label, engine, cat, rest = parts
                found, total = map(int, rest.split())
                results.setdefault((label, engine), []).append((cat, found, total))
            elif parts[0] == "MISSING" and len(parts) == 5:
                missing[(parts[1], parts[2], parts[3])].append(parts[4])
    return results, missing


def read_baseline(path):
    base = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 5 or not parts[3].isdigit() or not parts[4].isdigit():
                sys.exit(f"{path}:{number}: expected LABEL ENGINE CATEGORY FOUND TOTAL")
            base[tuple(parts[:3])] = (int(parts[3]), int(parts[4]))
    return base


def record(path, results):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(HEADER)
        for (label, engine), cats in results.items():
            for cat, found, total in cats:
                f.write(f"{label} {engine} {cat} {found} {total}\n")
    os.replace(path + ".tmp", path)


def gate(base, results, missing):
    sums = collections.OrderedDict()
    improved_any = False
    for (label, engine), cats in results.items():
        figures, worse, better = [], [], []
        for cat, found, total in cats:
            figures.append(f"{cat} {found}/{total}")
            s = sums.setdefault((engine, cat), [0, 0, 0])
            s[0] += found
            s[1] += total
            key = (label, engine, cat)
            if key in base:
                bfound, btotal = base[key]
                s[2] += bfound
                if total - found > btotal - bfound:
                    worse.append(f"{cat} {found}/{total} below the baseline {bfound}/{btotal}")
                elif total - found < btotal - bfound:
                    better.append(f"{cat} {bfound}/{btotal} -> {found}/{total}")
            else:
                s[2] += found
                if found < total:
                    worse.append(f"{cat} {found}/{total} (no baseline: the target is {total}/{total})")
        print(f"INFO extract {label} {engine}: {' '.join(figures)}")
        if worse:
            lost = "; ".join(f"{cat}: {t}" for cat, _, _ in cats for t in missing[(label, engine, cat)])
            gained = f" (improved: {', '.join(better)})" if better else ""
            print(f"FAIL extract {label} {engine}: {', '.join(worse)}{gained}; missing {lost[:400]}")
        elif better:
            improved_any = True
            print(f"PASS extract {label} {engine}: improved {', '.join(better)}")
        else:
            print(f"PASS extract {label} {engine}: holds the baseline")
    for (engine, cat), (found, total, bfound) in sums.items():
        print(f"INFO extract all documents {engine} {cat}: {found}/{total} (baseline {bfound}, target {total})")
    if improved_any:
        print("INFO extract figures improved: raise tests/extract/baseline.txt "
              "(EXTRACT_RECORD=tests/extract/baseline.txt tests/e2e/extract.sh build/vipgen)")


def main(argv):
    if len(argv) == 3 and argv[0] == "--record":
        results, _ = read_result(argv[2])
        record(argv[1], results)
        return 0
    if len(argv) != 2:
        sys.exit(__doc__)
    results, missing = read_result(argv[1])
    gate(read_baseline(argv[0]), results, missing)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
