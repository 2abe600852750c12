#!/bin/sh
# Installs the extractors (pdf.js and PDFium compiled to WebAssembly) at the versions package-lock.json pins, into
# tests/extract/node_modules, from the npm registry. Does nothing when they are already there at those versions.
set -eu
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
    echo "tests/extract/install.sh: npm is not installed (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi
stamp=node_modules/.vipgen-installed
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
    exit 0
fi
# No optional dependencies: pdf.js's canvas is for drawing, and text extraction does not need it.
if [ -f package-lock.json ]; then
    npm ci --omit=optional --no-audit --no-fund --loglevel=error
else
    npm install --omit=optional --no-audit --no-fund --loglevel=error
fi
cp package-lock.json "$stamp"
