#!/usr/bin/env bash
# Renders an anugerah report in headless Chromium and saves a PNG screenshot.
#
#   scripts/screenshot_report.sh [OUT_DIR] [PNG]
#
# OUT_DIR is the output folder of a run (default: output); the report is
# (re)written there with `anugerah report` when the binary is found. PNG
# defaults to /tmp/report.png. Skips with a message (status 0) when no
# Chromium is installed (Debian: apt-get install chromium).
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${1:-output}
PNG=${2:-/tmp/report.png}

CHROMIUM=""
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then CHROMIUM=$c; break; fi
done
if [ -z "$CHROMIUM" ]; then
    echo "screenshot_report: no chromium on PATH; skipping (apt-get install chromium)"
    exit 0
fi

BIN=${ANUGERAH_BIN:-${CARGO_TARGET_DIR:-target}/release/anugerah}
if [ -x "$BIN" ]; then
    "$BIN" report --out "$OUT"
fi
REPORT=$(cd "$OUT" && pwd)/report.html
if [ ! -f "$REPORT" ]; then
    echo "screenshot_report: $REPORT is missing (run: anugerah report --out $OUT)" >&2
    exit 1
fi

PROFILE=$(mktemp -d "${TMPDIR:-/tmp}/anugerah-chromium.XXXXXX")
trap 'rm -rf "$PROFILE"' EXIT
rm -f "$PNG"
# No network: the page is self-contained; every background service is off.
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$PROFILE" --hide-scrollbars \
    --screenshot="$PNG" --window-size="${WINDOW_SIZE:-1280,2000}" "file://$REPORT" 2>"$PROFILE/stderr.log" || {
    cat "$PROFILE/stderr.log" >&2
    exit 1
}
if [ ! -s "$PNG" ]; then
    cat "$PROFILE/stderr.log" >&2
    echo "screenshot_report: no screenshot written" >&2
    exit 1
fi
echo "screenshot_report: wrote $PNG ($(stat -c %s "$PNG") bytes) from $REPORT"
