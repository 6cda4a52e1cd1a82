#!/usr/bin/env bash
# Repackages Debian's ClamAV binaries as TEST-DOUBLE RPMs named like EPEL's (clamav,
# clamd, clamav-update) and makes a dnf repository of them. Runs inside
# localhost/avshift-testbed-builder (build.sh starts it), which has dpkg-deb, rpmbuild
# and createrepo_c. See README.md.
#
#   build-rpms.sh DEBS_DIR OUT
set -euo pipefail

DEBS=${1:?usage: build-rpms.sh DEBS_DIR OUT}
OUT=${2:?usage: build-rpms.sh DEBS_DIR OUT}
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Everything goes into one tree, then each package takes its part of it.
TREE="$WORK/tree"
mkdir -p "$TREE"
for deb in "$DEBS"/*.deb; do
    dpkg-deb -x "$deb" "$TREE"
done
version_of() { dpkg-deb -f "$DEBS/$1"_*.deb Version; }
DEB_VERSION="$(version_of libclamav12)"
# 1.4.6+dfsg-0+deb12u1 -> 1.4.6
VERSION="${DEB_VERSION%%+*}"
VERSION="${VERSION%%-*}"
RELEASE="0.avshift_test_double"
LIB=/usr/lib/x86_64-linux-gnu

# stage PACKAGE: an empty build root for PACKAGE.
stage() {
    rm -rf "$WORK/$1"
    mkdir -p "$WORK/$1"
    echo "$WORK/$1"
}
# put ROOT SOURCE DEST [MODE]
put() { install -D -m "${4:-0755}" "$2" "$1$3"; }
# libs ROOT PATTERN: shared objects (with their symlinks) into /usr/lib64, as on EL.
libs() {
    mkdir -p "$1/usr/lib64"
    cp -a "$TREE$LIB"/$2 "$1/usr/lib64/"
}

root="$(stage clamav)"
put "$root" "$TREE/usr/bin/clamscan" /usr/bin/clamscan
put "$root" "$TREE/usr/bin/sigtool" /usr/bin/sigtool
libs "$root" 'libclamav.so.*'
libs "$root" 'libfreshclam.so.*'
# EPEL's libclamav bundles libmspack (libclammspack); here it is Debian's libmspack0.
libs "$root" 'libmspack.so.*'
# EMULATION: the emulated host's dynamic linker (Debian's) does not search /usr/lib64.
mkdir -p "$root/etc/ld.so.conf.d"
printf '# avshift test double: EL keeps libraries in /usr/lib64\n/usr/lib64\n' \
    >"$root/etc/ld.so.conf.d/avshift-clamav-test-double.conf"
mkdir -p "$root/var/lib/clamav"

root="$(stage clamd)"
put "$root" "$TREE/usr/sbin/clamd" /usr/sbin/clamd
put "$root" "$TREE/usr/bin/clamdscan" /usr/bin/clamdscan
put "$root" "$SRC/clamd@.service" /usr/lib/systemd/system/clamd@.service 0644
put "$root" "$SRC/clamd.scan.tmpfiles.conf" /usr/lib/tmpfiles.d/clamd.scan.conf 0644
# scan.conf as EPEL derives it from upstream's sample: still with its "Example" line
# (clamd refuses to run while it is there), the socket commented out, user clamscan.
mkdir -p "$root/etc/clamd.d"
sed -e 's|^#LocalSocket /run/clamav/clamd.sock|#LocalSocket /run/clamd.scan/clamd.sock|' \
    -e 's|^#User clamav|User clamscan|' \
    "$TREE/usr/share/doc/clamav-daemon/examples/clamd.conf.sample" >"$root/etc/clamd.d/scan.conf"
grep -q '^Example' "$root/etc/clamd.d/scan.conf"
grep -q '^#LocalSocket /run/clamd.scan/clamd.sock' "$root/etc/clamd.d/scan.conf"

root="$(stage clamav-update)"
put "$root" "$TREE/usr/bin/freshclam" /usr/bin/freshclam
put "$root" "$SRC/clamav-freshclam.service" /usr/lib/systemd/system/clamav-freshclam.service 0644
sed -e 's|^#DatabaseOwner clamav|DatabaseOwner clamupdate|' \
    "$TREE/usr/share/doc/clamav-freshclam/examples/freshclam.conf.sample" \
    >"$WORK/freshclam.conf"
put "$root" "$WORK/freshclam.conf" /etc/freshclam.conf 0644

DESCRIPTION="Not EPEL's package: an avshift test double that repackages Debian's ClamAV
$DEB_VERSION binaries under EPEL's package, user, unit and path names, so that the
install role can be tested against rpm, dnf and systemd on the test bed's emulated RPM
host (Debian underneath). See tests/testbed/clamav-rpm/README.md in avshift."

# spec NAME SUMMARY PRE POST FILES
spec() {
    cat <<EOF
Name: $1
Version: $VERSION
Release: $RELEASE
Summary: $2 (avshift test double)
License: GPL-2.0-only
Vendor: avshift test bed
URL: https://example.invalid/avshift/test-doubles
# Debian's libraries, not rpm's, satisfy the binaries on the emulated host.
AutoReqProv: no
$( [ "$1" = clamav ] || echo "Requires: clamav = $VERSION-$RELEASE")

%description
$DESCRIPTION

%install
cp -a $WORK/$1/. %{buildroot}/

%pre
$3

%post
$4

%postun
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi

%files
$5
EOF
}

add_user() {
    # add_user USER GROUP HOME COMMENT [EXTRA_GROUP]
    cat <<EOF
getent group $2 >/dev/null || groupadd -r $2
getent passwd $1 >/dev/null || useradd -r -g $2 ${5:+-G $5} -d $3 -s /sbin/nologin -c "$4" $1
exit 0
EOF
}

files_of() {
    # Every file and symlink of the package, never a system directory.
    (cd "$WORK/$1" && find . ! -type d | sort | sed 's|^\.||')
}

build() {
    local name=$1 specfile="$WORK/$1.spec"
    cat >"$specfile"
    rpmbuild --quiet -bb \
        --define "_topdir $WORK/rpmbuild-$name" \
        --define "_rpmdir $OUT" \
        --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
        --define "debug_package %{nil}" \
        --define "__os_install_post %{nil}" \
        --define "_build_id_links none" \
        "$specfile"
    echo "built $name $VERSION-$RELEASE"
}

mkdir -p "$OUT"
spec clamav "Anti-virus scanner and libraries" \
    "$(add_user clamupdate clamupdate /var/lib/clamav 'ClamAV database update user')" \
    "ldconfig" \
    "$(files_of clamav | grep -v '^/var/lib/clamav' | sed 's|^/etc/|%config /etc/|')
%attr(0755,clamupdate,clamupdate) %dir /var/lib/clamav" | build clamav

spec clamd "The ClamAV daemon" \
    "$(getent_virusgroup='getent group virusgroup >/dev/null || groupadd -r virusgroup'
        echo "$getent_virusgroup"
        add_user clamscan clamscan / 'Clamav scanner user' virusgroup)" \
    "if [ -d /run/systemd/system ]; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/clamd.scan.conf || true
    systemctl daemon-reload || true
fi" \
    "$(files_of clamd | sed 's|^/etc/|%config(noreplace) /etc/|')" | build clamd

spec clamav-update "Auto-updater for the ClamAV database" "" \
    "if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi" \
    "$(files_of clamav-update | sed 's|^/etc/|%config(noreplace) /etc/|')" | build clamav-update

createrepo_c --quiet "$OUT"
chmod -R a+rX "$OUT"
echo "repository: $OUT (dnf, baseurl=file://...)"
