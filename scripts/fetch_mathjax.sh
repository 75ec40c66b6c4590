#!/usr/bin/env bash
# Copy MathJax 4 (the `mathjax` npm package and its default font, `@mathjax/mathjax-newcm-font`)
# into book/_static/mathjax so that the book renders equations with no network access.
#
#   book/_static/mathjax/tex-mml-chtml.js                 the combined component (_config.yml
#                                                         points `mathjax_path` at it)
#   book/_static/mathjax/{input,output,a11y,sre,ui,adaptors}/   what it loads on demand
#   book/_static/mathjax/fonts/mathjax-newcm-font/chtml/  woff2 files and dynamic glyph ranges
#                                                         (_config.yml sets loader.paths.fonts)
#
# Idempotent: skipped when the pinned version is already there. The folder is gitignored.
# Usage: scripts/fetch_mathjax.sh [DEST]   (default: book/_static/mathjax)
set -euo pipefail

MATHJAX_VERSION=4.1.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/book/_static/mathjax}"
STAMP="$DEST/.version"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$MATHJAX_VERSION" ] \
    && [ -f "$DEST/tex-mml-chtml.js" ] && [ -d "$DEST/fonts/mathjax-newcm-font/chtml/woff2" ]; then
    echo "MathJax $MATHJAX_VERSION already in $DEST"
    exit 0
fi

command -v npm >/dev/null || { echo "error: npm is needed to fetch MathJax" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

(
    cd "$TMP"
    npm pack --silent "mathjax@$MATHJAX_VERSION" "@mathjax/mathjax-newcm-font@$MATHJAX_VERSION" \
        >/dev/null
    mkdir mathjax font
    tar -xzf "mathjax-$MATHJAX_VERSION.tgz" -C mathjax --strip-components=1
    tar -xzf "mathjax-mathjax-newcm-font-$MATHJAX_VERSION.tgz" -C font --strip-components=1
)

rm -rf "$DEST"
mkdir -p "$DEST/fonts/mathjax-newcm-font"
cp "$TMP/mathjax/tex-mml-chtml.js" "$TMP/mathjax/LICENSE" "$DEST/"
for dir in input output a11y sre ui adaptors; do
    cp -R "$TMP/mathjax/$dir" "$DEST/"
done
cp -R "$TMP/font/chtml" "$TMP/font/chtml.js" "$DEST/fonts/mathjax-newcm-font/"
echo "$MATHJAX_VERSION" >"$STAMP"
echo "MathJax $MATHJAX_VERSION copied to $DEST ($(du -sh "$DEST" | cut -f1))"
