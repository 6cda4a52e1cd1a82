#!/usr/bin/env bash
# Builds the mdatp TEST DOUBLE as OUT/mdatp.deb and OUT/mdatp.rpm (README.md). Runs in
# localhost/avshift-testbed-builder, which has dpkg-deb and rpmbuild; molecule/install's
# prepare starts it.
#
#   build.sh OUT
set -euo pipefail

OUT=${1:?usage: build.sh OUT}
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
VERSION=101.0.0
RELEASE=avshift.test.double
SUMMARY="Microsoft Defender for Endpoint on Linux (avshift test double)"
DESCRIPTION="Not Microsoft software: a stand-in from the avshift test bed whose daemon is
a renamed copy of sleep and whose mdatp command answers health queries from the
onboarding and offboarding files."

# The maintainer scripts stamp the definitions as updated now (the double's `mdatp
# health` reports that time) and start the service, as Microsoft's package does.
DEFINITIONS='mkdir -p /var/opt/microsoft/mdatp && touch /var/opt/microsoft/mdatp/definitions'
START="$DEFINITIONS; "'if [ -d /run/systemd/system ]; then systemctl daemon-reload; systemctl enable --now mdatp.service; fi'
STOP='if [ -d /run/systemd/system ]; then systemctl disable --now mdatp.service || true; fi'

stage() {
    local root=$1 unit_dir=$2
    install -D -m 0755 "$SRC/mdatp" "$root/usr/bin/mdatp"
    install -D -m 0755 /bin/sleep "$root/opt/microsoft/mdatp/sbin/wdavdaemon"
    install -D -m 0644 "$SRC/mdatp.service" "$root$unit_dir/mdatp.service"
    printf '%s\n' "$DESCRIPTION" >"$root/opt/microsoft/mdatp/TEST-DOUBLE"
}

deb="$WORK/deb"
stage "$deb" /lib/systemd/system
mkdir -p "$deb/DEBIAN"
cat >"$deb/DEBIAN/control" <<CONTROL
Package: mdatp
Version: $VERSION-$RELEASE
Architecture: $(dpkg --print-architecture)
Maintainer: avshift test bed <avshift-test-double@example.invalid>
Section: utils
Priority: optional
Description: $SUMMARY
$(sed 's/^/ /' <<<"$DESCRIPTION")
CONTROL
printf '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then %s; fi\n' "$START" >"$deb/DEBIAN/postinst"
printf '#!/bin/sh\nset -e\n%s\n' "$STOP" >"$deb/DEBIAN/prerm"
chmod 0755 "$deb/DEBIAN/postinst" "$deb/DEBIAN/prerm"
mkdir -p "$OUT"
dpkg-deb --root-owner-group --build "$deb" "$OUT/mdatp.deb" >/dev/null

rpm_root="$WORK/rpm-root"
stage "$rpm_root" /usr/lib/systemd/system
cat >"$WORK/mdatp.spec" <<SPEC
Name: mdatp
Version: $VERSION
Release: $RELEASE
Summary: $SUMMARY
License: LicenseRef-avshift-test-double
Vendor: avshift test bed
AutoReqProv: no

%description
$DESCRIPTION

%install
cp -a $rpm_root/. %{buildroot}/

%post
$START

%preun
if [ "\$1" -eq 0 ]; then $STOP; fi

%files
/usr/bin/mdatp
/usr/lib/systemd/system/mdatp.service
%dir /opt/microsoft/mdatp
%dir /opt/microsoft/mdatp/sbin
/opt/microsoft/mdatp/sbin/wdavdaemon
/opt/microsoft/mdatp/TEST-DOUBLE
SPEC
rpmbuild --quiet -bb --define "_topdir $WORK/rpmbuild" --define "_rpmdir $WORK/rpms" \
    --define "debug_package %{nil}" --define "__os_install_post %{nil}" \
    --define "_build_id_links none" "$WORK/mdatp.spec"
cp "$WORK"/rpms/*/mdatp-*.rpm "$OUT/mdatp.rpm"
chmod -R a+rX "$OUT"
echo "built $OUT/mdatp.deb and $OUT/mdatp.rpm ($VERSION-$RELEASE)"
