#!/usr/bin/env bash
# Builds the test bed's offline ClamAV signature source (see docs/testbed.md): a local
# database made with sigtool that clamd and clamscan load without any download.
#   OUT/avshift-testbed.hdb            MD5 signature of the EICAR test file
#   OUT/avshift-testbed.cud            the same in an unsigned database container, whose
#                                      header carries this build's time
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

# A plain .hdb carries no build time, only the time it was copied; a database header
# does, and avshift reads it for the policy's maximum signature age. sigtool stamps the
# container with the moment it runs (setup.sh rebuilds it daily for that); --unsigned
# makes a .cud, which ClamAV loads without Talos's signature. It wants a COPYING file
# and the databases named after the container in its working directory.
container="$WORK/container"
mkdir "$container"
cp "$OUT/avshift-testbed.hdb" "$container/"
echo "avshift test bed signatures: the EICAR test file only" >"$container/COPYING"
# sigtool also looks for an earlier build in the system's database directory and says
# it found none: its output is shown only when the build fails.
(cd "$container" && SIGNDUSER=avshift-testbed sigtool --build=avshift-testbed.cud --unsigned \
    --cvd-version="$(date -u +%Y%m%d)" </dev/null >"$WORK/sigtool.log" 2>&1) || {
    cat "$WORK/sigtool.log" >&2
    exit 1
}
install -m 0644 "$container/avshift-testbed.cud" "$OUT/avshift-testbed.cud"

# Prove the database loads and detects before any scenario relies on it (clamscan exits
# 1 when it finds something, so its output is judged, not its status).
for database in avshift-testbed.hdb avshift-testbed.cud; do
    result="$(clamscan --no-summary --database="$OUT/$database" "$sample" || true)"
    if [[ "$result" == *"Avshift.Testbed.EICAR.UNOFFICIAL FOUND"* ]]; then
        echo "signatures: $database (clamscan detects EICAR with it)"
    else
        echo "clamscan did not detect EICAR with $OUT/$database: $result" >&2
        exit 1
    fi
done
sigtool --info="$OUT/avshift-testbed.cud" | grep '^Build time:'
chmod -R a+rX "$OUT"
