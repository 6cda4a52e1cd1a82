#!/usr/bin/env bash
# Installs what the HTML report's browser test needs: Debian's chromium, driven by the
# playwright package from the venv. Playwright's own browser download is not used: the
# test machines reach Debian's archive but not playwright's download servers.
set -euo pipefail

started=$SECONDS
if [ -x /usr/bin/chromium ]; then
    echo "tests/report/setup.sh: chromium already installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown')), nothing to do ($((SECONDS - started)) s)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "tests/report/setup.sh: error: installing chromium needs root (apt-get)" >&2
    exit 1
fi
echo "tests/report/setup.sh: installing Debian's chromium ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "tests/report/setup.sh: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium) in $((SECONDS - started)) s"
