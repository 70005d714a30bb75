#!/usr/bin/env bash
# Renders a Tuna training report in headless Chromium and checks that it loads with every image
# decoded and the accuracy line shown; also saves a screenshot next to it.
#   scripts/check_report.sh <report.html> [expected text]
set -euo pipefail
html="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
expected="${2:-Test accuracy: }"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$browser" ]; then
  echo "check_report: no Chromium found (Debian: apt-get install chromium)" >&2
  exit 2
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile" --virtual-time-budget=10000)
dom="$("$browser" "${flags[@]}" --dump-dom "file://$html" 2>/dev/null)"
status="$(sed -n 's/.*data-images-ok="\([0-9]*\/[0-9]*\)".*/\1/p' <<< "$dom")"
status="${status%%$'\n'*}"
if [ -z "$status" ]; then
  echo "check_report: the page did not finish loading (no data-images-ok mark)" >&2
  exit 1
fi
ok="${status%/*}"
total="${status#*/}"
if [ "$total" -eq 0 ] || [ "$ok" -ne "$total" ]; then
  echo "check_report: $ok of $total images decoded" >&2
  exit 1
fi
if ! grep -qF "$expected" <<< "$dom"; then
  echo "check_report: '$expected' not found on the page" >&2
  exit 1
fi
"$browser" "${flags[@]}" --window-size=1200,4000 --screenshot="${html%.html}.png" "file://$html" >/dev/null 2>&1
echo "check_report: $ok/$total images decoded, '$expected' shown; screenshot ${html%.html}.png"
