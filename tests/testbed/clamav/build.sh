#!/usr/bin/env bash
# Builds the test bed's offline ClamAV signature source (see docs/testbed.md): a local
# database made with sigtool that clamd and clamscan load without any download.
#   OUT/avshift-testbed.hdb            MD5 signature of the EICAR test file
#   OUT/clamav-daemon-offline.conf     the unit drop-in clamd needs with it
# Runs inside localhost/avshift-testbed-builder (setup.sh starts it).
#
#   build.sh OUT
# shellcheck disable=SC2016 # the EICAR string's $ signs are literal
set -euo pipefail

OUT=${1:?usage: build.sh OUT}
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The EICAR test string, kept in two halves so that no scanner flags this script.
eicar_head='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR'
eicar_tail='-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
# sigtool names the signature after the file it hashes.
sample="$WORK/Avshift.Testbed.EICAR"
printf '%s%s' "$eicar_head" "$eicar_tail" >"$sample"

mkdir -p "$OUT"
sigtool --md5 "$sample" >"$OUT/avshift-testbed.hdb"
install -m 0644 "$SRC/clamav-daemon-offline.conf" "$OUT/clamav-daemon-offline.conf"

# Prove the database loads and detects before any scenario relies on it (clamscan exits
# 1 when it finds something, so its output is judged, not its status).
result="$(clamscan --no-summary --database="$OUT/avshift-testbed.hdb" "$sample" || true)"
if [[ "$result" == *"Avshift.Testbed.EICAR.UNOFFICIAL FOUND"* ]]; then
    echo "signatures: avshift-testbed.hdb (clamscan detects EICAR with it)"
else
    echo "clamscan did not detect EICAR with $OUT/avshift-testbed.hdb: $result" >&2
    exit 1
fi
chmod -R a+rX "$OUT"
