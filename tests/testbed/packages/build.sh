#!/usr/bin/env bash
# Builds the dummy vendor packages (test doubles, see docs/testbed.md) as .deb and .rpm
# and the repositories the test hosts install them from:
#   OUT/apt  flat apt repository  (deb [trusted=yes] file:///.../apt ./)
#   OUT/rpm  dnf repository        (baseurl=file:///.../rpm, gpgcheck=0)
# Runs inside localhost/avshift-testbed-builder (setup.sh starts it), which has dpkg-deb,
# rpmbuild, apt-ftparchive and createrepo_c.
#
#   build.sh OUT
# shellcheck disable=SC2153 # VERSION and friends come from package.conf
set -euo pipefail

OUT=${1:?usage: build.sh OUT}
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

MAINTAINER="AO Kaspersky Lab <avshift-test-double@example.invalid>"
VENDOR="AO Kaspersky Lab"
DEB_ARCH="$(dpkg --print-architecture)"
mkdir -p "$OUT/apt" "$OUT/rpm"

# The maintainer scripts exist once, for both formats: the install starts the daemon
# under systemd and the removal stops it, as the vendor's packages do. The systemd check
# keeps installs into an image build (no init running) working.
script_start() {
    cat <<EOF
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now $1.service
fi
EOF
}
script_stop() {
    cat <<EOF
if [ -d /run/systemd/system ]; then
    systemctl disable --now $1.service || true
fi
EOF
}
script_reload() {
    cat <<EOF
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
EOF
}

# stage DIR UNIT_DIR: the package's file tree, with the unit where the format wants it.
stage() {
    local dir=$1 unit_dir=$2 pair link
    mkdir -p "$dir"
    cp -a "$SRC/$NAME/root/." "$dir/"
    install -D -m 0755 /bin/sleep "$dir$DAEMON"
    install -D -m 0644 "$SRC/$NAME/$SERVICE.service" "$dir$unit_dir/$SERVICE.service"
    for pair in $SYMLINKS; do
        link=${pair%%:*}
        mkdir -p "$dir$(dirname "$link")"
        ln -s "${pair#*:}" "$dir$link"
    done
}

build_deb() {
    local root="$WORK/deb/$NAME" version="$VERSION-$RELEASE"
    # Debian packages keep units in /lib even on merged-/usr systems.
    stage "$root" /lib/systemd/system
    mkdir -p "$root/DEBIAN"
    cat >"$root/DEBIAN/control" <<EOF
Package: $NAME
Version: $version
Architecture: $DEB_ARCH
Maintainer: $MAINTAINER
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Section: non-free/utils
Priority: optional
Homepage: https://example.invalid/avshift/test-doubles
Description: $SUMMARY (avshift test double)
 Not Kaspersky software: a stand-in built by the avshift test bed whose daemon is a
 renamed copy of sleep. It carries the real product's names and paths so that avshift
 can be tested against dpkg, apt and systemd.
EOF
    {
        # shellcheck disable=SC2016 # $1 belongs to the maintainer script
        printf '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n'
        script_start "$SERVICE" | sed 's/^/    /'
        printf 'fi\n'
    } >"$root/DEBIAN/postinst"
    {
        printf '#!/bin/sh\nset -e\n'
        script_stop "$SERVICE"
    } >"$root/DEBIAN/prerm"
    {
        printf '#!/bin/sh\nset -e\n'
        script_reload
    } >"$root/DEBIAN/postrm"
    chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
    dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT/apt/${NAME}_${version}_$DEB_ARCH.deb" >/dev/null
}

build_rpm() {
    local top="$WORK/rpm/$NAME" root="$WORK/rpm/$NAME/stage" spec
    stage "$root" /usr/lib/systemd/system
    mkdir -p "$top/SPECS"
    spec="$top/SPECS/$NAME.spec"
    cat >"$spec" <<EOF
Name: $NAME
Version: $VERSION
Release: $RELEASE
Summary: $SUMMARY (avshift test double)
License: LicenseRef-avshift-test-double
Vendor: $VENDOR
Packager: $MAINTAINER
URL: https://example.invalid/avshift/test-doubles
# The double needs nothing the emulated host lacks; automatic dependencies would ask
# for a /bin/sh that only dpkg, not rpm, knows about.
AutoReqProv: no

%description
Not Kaspersky software: a stand-in built by the avshift test bed whose daemon is a
renamed copy of sleep. It carries the real product's names and paths so that avshift
can be tested against rpm, dnf and systemd.

%install
cp -a $root/. %{buildroot}/

%post
$(script_start "$SERVICE")

%preun
# \$1 is 0 on removal and 1 on upgrade: only a removal stops the daemon.
if [ "\$1" -eq 0 ]; then
$(script_stop "$SERVICE" | sed 's/^/    /')
fi

%postun
$(script_reload)

%files
EOF
    # Own the vendor directories (shared with the other double, as rpm allows) and
    # every file; never system directories such as /usr/bin.
    (
        cd "$root"
        find opt -mindepth 1 -type d | sort | sed 's|^|%dir /|'
        find . ! -type d | sort | sed 's|^\.||'
    ) >>"$spec"
    rpmbuild --quiet -bb \
        --define "_topdir $top" \
        --define "_rpmdir $OUT/rpm" \
        --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
        --define "debug_package %{nil}" \
        --define "__os_install_post %{nil}" \
        --define "_build_id_links none" \
        "$spec"
}

# Each package.conf sets NAME, VERSION, RELEASE, SUMMARY, SERVICE, DAEMON and SYMLINKS
# for the functions above.
for conf in "$SRC"/*/package.conf; do
    (
        # shellcheck source=/dev/null
        source "$conf"
        build_deb
        build_rpm
        echo "built $NAME $VERSION-$RELEASE (.deb and .rpm)"
    )
done

(cd "$OUT/apt" && apt-ftparchive packages . >Packages && gzip -9kn Packages &&
    apt-ftparchive -o APT::FTPArchive::Release::Origin="avshift test bed" \
        -o APT::FTPArchive::Release::Label="avshift test doubles" release . >Release)
createrepo_c --quiet "$OUT/rpm"
# The test hosts read the repositories through a read-only bind mount as any user.
chmod -R a+rX "$OUT"
echo "repositories: apt/ (flat apt repository) and rpm/ (dnf repository)"
