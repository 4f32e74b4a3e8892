#!/usr/bin/env bash
# Installs Debian's chromium (once) for the browser demo's test, which drives it headless with
# puppeteer-core: nothing downloads a browser at run time. Prints the browser's path.
set -euo pipefail
for candidate in chromium chromium-browser; do
    if path=$(command -v "$candidate"); then
        echo "$path"
        exit 0
    fi
done
echo "setup-browser: installing Debian's chromium (once, a minute or two)" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium >&2
command -v chromium
