#!/usr/bin/env bash
# Builds the ClamAV TEST-DOUBLE RPMs (clamav, clamd, clamav-update) and their dnf
# repository for the emulated RPM host, see README.md:
#   $AVSHIFT_TESTBED_OUT/clamav-rpm/   (/srv/avshift-testbed/clamav-rpm in the test hosts)
# Runs on the test machine as root after tests/testbed/setup.sh: downloads Debian's
# ClamAV packages with apt-get download, then repackages them in the builder image.
# Reuses an existing build whose inputs are unchanged; molecule/install's prepare calls
# it.
#
#   build.sh [OUT]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../env.sh
source "$HERE/../env.sh"
OUT="${1:-$AVSHIFT_TESTBED_OUT/clamav-rpm}"
BUILDER=localhost/avshift-testbed-builder
PACKAGES=(libclamav12 libmspack0 clamav clamav-daemon clamav-freshclam clamdscan)

log() { echo "clamav-rpm: $*"; }
die() {
    echo "clamav-rpm: error: $*" >&2
    exit 1
}

podman image exists "$BUILDER" || die "$BUILDER is missing: run tests/testbed/setup.sh first"
mkdir -p "$(dirname "$OUT")"
# Two scenario runs at once build once; the second finds the result current.
exec 9>"$OUT.lock"
flock 9

# The inputs: this directory, the builder image and the Debian versions apt would fetch.
candidates="$(apt-cache policy "${PACKAGES[@]}" | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }')"
if grep -q '(none)' <<<"$candidates"; then
    die "apt has no candidate for some of ${PACKAGES[*]}: run apt-get update"$'\n'"$candidates"
fi
digest="$(
    {
        (cd "$HERE" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
        podman image inspect --format '{{ .Id }}' "$BUILDER"
        echo "$candidates"
    } | sha256sum | cut -c1-16
)"
if [ "$(cat "$OUT/.digest" 2>/dev/null)" = "$digest" ] && [ -f "$OUT/repodata/repomd.xml" ]; then
    log "reusing $OUT (digest $digest)"
    exit 0
fi

work="$(mktemp -d /var/tmp/avshift-clamav-rpm.XXXXXX)"
fresh=""
cleanup() {
    rm -rf "$work"
    if [ -n "$fresh" ]; then rm -rf "$fresh"; fi
}
trap cleanup EXIT

mkdir -p "$work/debs"
# _apt cannot write into root's scratch directory; download as root instead.
(cd "$work/debs" && apt-get download -q -o APT::Sandbox::User=root "${PACKAGES[@]}" >/dev/null) ||
    die "apt-get download ${PACKAGES[*]} failed"

fresh="$(mktemp -d "$(dirname "$OUT")/.clamav-rpm.XXXXXX")"
podman run --rm --pull=never --network=none \
    -v "$HERE:/src:ro" -v "$work/debs:/debs:ro" -v "$fresh:/out" \
    "$BUILDER" /src/build-rpms.sh /debs /out || die "build-rpms.sh failed in $BUILDER"
echo "$digest" >"$fresh/.digest"
chmod 0755 "$fresh"
rm -rf "$OUT.old"
if [ -e "$OUT" ]; then mv "$OUT" "$OUT.old"; fi
mv "$fresh" "$OUT"
fresh=""
rm -rf "$OUT.old"
log "built $OUT (digest $digest)"
