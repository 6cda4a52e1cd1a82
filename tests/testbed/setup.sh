#!/usr/bin/env bash
# Installs and builds the avshift test bed on a Debian 12 host, as root: podman and its
# settings, the container images the Molecule scenarios run on, the dummy vendor
# packages with their local apt and dnf repositories, and an offline ClamAV signature
# source. bin/test calls it before pytest; it is idempotent and cheap when nothing
# changed, so every test run can call it.
#
#   tests/testbed/setup.sh [--rebuild]
#
#   --rebuild                   rebuild images and artefacts even if current ones exist
#   AVSHIFT_TESTBED_REBUILD=1   the same, for callers that cannot pass arguments
#   AVSHIFT_TESTBED_MIRROR      Debian mirror for the images (default: the host's own)
#   AVSHIFT_TESTBED_OUT         artefact directory (default: /var/lib/avshift-testbed)
#
# See docs/testbed.md for what is built and why.
set -euo pipefail

TESTBED_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh source-path=SCRIPTDIR
source "$TESTBED_DIR/env.sh"

REBUILD="${AVSHIFT_TESTBED_REBUILD:-}"
for arg in "$@"; do
    case "$arg" in
        --rebuild) REBUILD=1 ;;
        -h | --help)
            sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "testbed: error: unknown argument '$arg' (try --help)" >&2
            exit 2
            ;;
    esac
done
case "$REBUILD" in 0 | false | no) REBUILD= ;; esac

# ca-certificates: the image's apt must reach https mirrors before it can install it.
DEBOOTSTRAP_ARGS=(--variant=minbase "--include=debian-archive-keyring,ca-certificates")
IMAGE_DEBIAN="localhost/avshift-debian12"
IMAGE_ROCKY_EMU="localhost/avshift-rocky9-emu"
IMAGE_BUILDER="localhost/avshift-testbed-builder"
# The debootstrap result, kept so that a Containerfile change rebuilds in seconds.
IMAGE_ROOTFS="localhost/avshift-debian12-rootfs"
DIGEST_LABEL="org.avshift.testbed.digest"

log() { echo "testbed: $*"; }
die() {
    echo "testbed: error: $*" >&2
    exit 1
}

# Seconds since the epoch with millisecond precision, for the step timings.
now_ms() { date +%s%3N; }
fmt_ms() { printf '%d.%01d s' $(($1 / 1000)) $((($1 % 1000) / 100)); }

SETUP_STARTED=$(now_ms)
# run_step TITLE COMMAND...: says what it does and how long it took, so a slow CI run
# shows which part of the test bed to look at.
run_step() {
    local title=$1 started
    shift
    log "$title ..."
    started=$(now_ms)
    "$@"
    log "$title: done in $(fmt_ms $(($(now_ms) - started)))"
}

short_digest() { sha256sum | cut -c1-16; }
digest_of() { cat "$@" | short_digest; }
digest_of_tree() {
    # Sorted relative names and contents, so the digest is the same in every checkout.
    (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
        short_digest
}

image_digest() {
    podman image inspect --format "{{ index .Labels \"$DIGEST_LABEL\" }}" "$1" 2>/dev/null || true
}

# An image is reused when it exists and was built from the same inputs.
image_current() {
    [ -z "$REBUILD" ] && podman image exists "$1" && [ "$(image_digest "$1")" = "$2" ]
}

TMP_ROOT=""
cleanup_tmp() {
    if [ -n "$TMP_ROOT" ] && [ -d "$TMP_ROOT" ]; then
        rm -rf "$TMP_ROOT"
    fi
}
trap cleanup_tmp EXIT

# ---------------------------------------------------------------------------------------
# Host: root on Debian, podman + runc + debootstrap.
# ---------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "the test bed needs root (rootful podman, debootstrap)"
[ -r /etc/debian_version ] ||
    die "the test bed builds its images with apt and debootstrap: run it on Debian 12"

install_host_packages() {
    local missing=() pkg
    for pkg in podman runc debootstrap; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "host packages already installed: podman runc debootstrap"
        return 0
    fi
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Every podman call of the project carries CONTAINERS_CONF (env.sh exports it), so the
# host's /etc/containers and a user's ~/.config/containers are never rewritten.
check_podman() {
    local runtime
    runtime="$(podman info --format '{{ .Host.OCIRuntime.Name }}')" ||
        die "podman does not work with $CONTAINERS_CONF"
    [ "$runtime" = runc ] ||
        die "podman uses runtime '$runtime', expected runc from $CONTAINERS_CONF"
    log "podman $(podman version --format '{{ .Client.Version }}'), runtime $runtime," \
        "CONTAINERS_CONF=$CONTAINERS_CONF"
}

# ---------------------------------------------------------------------------------------
# Debian mirror: the one the host's own apt sources name, so the test bed works wherever
# the host's apt does (internal mirrors included). Proxy variables in the environment
# reach debootstrap, and podman passes them on to builds and containers.
# ---------------------------------------------------------------------------------------
detect_mirrors() {
    local targets
    # shellcheck disable=SC2016 # $(...) are apt's format fields, not shell
    targets="$(apt-get indextargets --format '$(RELEASE)|$(REPO_URI)|$(ORIGIN)' \
        'Created-By: Packages' 2>/dev/null | sort -u)"
    if [ -z "${AVSHIFT_TESTBED_MIRROR:-}" ]; then
        # Prefer an entry whose Release file says Debian; with no lists downloaded yet
        # the origin is empty, so fall back to the first bookworm entry.
        AVSHIFT_TESTBED_MIRROR="$(awk -F'|' '$1 == "bookworm" && $3 == "Debian" { print $2; exit }' \
            <<<"$targets")"
        [ -n "$AVSHIFT_TESTBED_MIRROR" ] ||
            AVSHIFT_TESTBED_MIRROR="$(awk -F'|' '$1 == "bookworm" { print $2; exit }' <<<"$targets")"
    fi
    [ -n "$AVSHIFT_TESTBED_MIRROR" ] ||
        die "no bookworm entry in the host's apt sources: set AVSHIFT_TESTBED_MIRROR"
    SECURITY_MIRROR="$(awk -F'|' '$1 == "bookworm-security" { print $2; exit }' <<<"$targets")"
    AVSHIFT_TESTBED_MIRROR="${AVSHIFT_TESTBED_MIRROR%/}/"
    log "Debian mirror: $AVSHIFT_TESTBED_MIRROR${SECURITY_MIRROR:+ (security: $SECURITY_MIRROR)}"
}

write_apt_sources() {
    {
        printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' \
            "$AVSHIFT_TESTBED_MIRROR"
        printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        if [ -n "$SECURITY_MIRROR" ]; then
            printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' \
                "$SECURITY_MIRROR"
            printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        fi
    } >"$1"
}

# ---------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------
build_rootfs_image() {
    local rootfs="$TMP_ROOT/rootfs"
    mkdir -p "$rootfs"
    debootstrap "${DEBOOTSTRAP_ARGS[@]}" bookworm "$rootfs" "$AVSHIFT_TESTBED_MIRROR" \
        >"$TMP_ROOT/debootstrap.log" 2>&1 || {
        tail -n 30 "$TMP_ROOT/debootstrap.log" >&2
        die "debootstrap from $AVSHIFT_TESTBED_MIRROR failed (log above)"
    }
    # The apt lists debootstrap leaves are dropped: prepare steps run apt-get update,
    # as on a host that has not refreshed its lists.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -c . |
        podman import --quiet --change "LABEL $DIGEST_LABEL=$1" - "$IMAGE_ROOTFS" >/dev/null
    rm -rf "$rootfs"
}

# build_image NAME DIGEST CONTAINERFILE: podman build in a scratch context holding the
# images/ directory plus the generated apt sources.
build_image() {
    local name=$1 digest=$2 containerfile=$3
    local context="$TMP_ROOT/context-${1##*/}" build_log="$TMP_ROOT/build-${1##*/}.log"
    mkdir -p "$context"
    cp -a "$TESTBED_DIR/images/." "$context/"
    write_apt_sources "$context/debian.sources"
    podman build --pull=never --layers=false --quiet --label "$DIGEST_LABEL=$digest" \
        -f "$context/$containerfile" -t "$name" "$context" >"$build_log" 2>&1 || {
        tail -n 40 "$build_log" >&2
        die "building $name failed (log above)"
    }
}

# The derived images both start from the Debian image and only wait on the network, so
# they build side by side.
build_derived_images() {
    local pids=() names=() rc=0 i
    if ! image_current "$IMAGE_ROCKY_EMU" "$DIGEST_ROCKY_EMU"; then
        build_image "$IMAGE_ROCKY_EMU" "$DIGEST_ROCKY_EMU" Containerfile.rocky9-emu &
        pids+=($!)
        names+=("$IMAGE_ROCKY_EMU")
    else
        log "reusing $IMAGE_ROCKY_EMU (digest $DIGEST_ROCKY_EMU)"
    fi
    if ! image_current "$IMAGE_BUILDER" "$DIGEST_BUILDER"; then
        build_image "$IMAGE_BUILDER" "$DIGEST_BUILDER" Containerfile.builder &
        pids+=($!)
        names+=("$IMAGE_BUILDER")
    else
        log "reusing $IMAGE_BUILDER (digest $DIGEST_BUILDER)"
    fi
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then
            log "built ${names[$i]}"
        else
            rc=1
        fi
    done
    return $rc
}

# ---------------------------------------------------------------------------------------
# Artefacts built in the builder image: dummy packages + repositories, ClamAV signatures
# ---------------------------------------------------------------------------------------
# build_artefact KIND DIGEST SCRIPT [IMAGE NETWORK]: runs SCRIPT in a throw-away
# container (the builder image, no network, unless told) that writes to a fresh
# directory, then swaps it in, so a failed or concurrent build never leaves a
# half-written repository behind.
build_artefact() {
    local kind=$1 digest=$2 script=$3 target="$AVSHIFT_TESTBED_OUT/$1" fresh
    local image=${4:-$IMAGE_BUILDER} network=${5:-none}
    if [ -z "$REBUILD" ] && [ "$(cat "$target/.digest" 2>/dev/null)" = "$digest" ]; then
        log "reusing $target (digest $digest)"
        return 0
    fi
    mkdir -p "$AVSHIFT_TESTBED_OUT"
    fresh="$(mktemp -d "$AVSHIFT_TESTBED_OUT/.$kind.XXXXXX")"
    podman run --rm --pull=never --network="$network" \
        -v "$TESTBED_DIR:/testbed:ro" -v "$fresh:/out" \
        "$image" "/testbed/$script" /out || {
        rm -rf "$fresh"
        die "$script failed in $image"
    }
    echo "$digest" >"$fresh/.digest"
    chmod 0755 "$fresh"
    rm -rf "$target.old"
    if [ -e "$target" ]; then mv "$target" "$target.old"; fi
    mv "$fresh" "$target"
    rm -rf "$target.old"
}

# Every systemd in a test host takes inotify instances from the host's per-user limit
# (128 by default); past it, container boots hang in "initializing" ("Failed to create
# inotify object: Too many open files"). Raised for this boot only, never lowered.
raise_inotify_limit() {
    local key=fs.inotify.max_user_instances wanted=1024 current
    current="$(sysctl -n "$key")"
    if [ "$current" -lt "$wanted" ]; then
        if sysctl -qw "$key=$wanted"; then
            log "$key raised from $current to $wanted for this boot"
        else
            log "cannot raise $key from $current: many test hosts at once may not boot"
        fi
    fi
}

main() {
    # Two test runs on one host (the images are host-wide) must not build the same image
    # twice at once; the second waits and then finds everything current.
    mkdir -p "$AVSHIFT_TESTBED_OUT"
    exec 9>"$AVSHIFT_TESTBED_OUT/.setup.lock"
    flock 9

    TMP_ROOT="$(mktemp -d /var/tmp/avshift-testbed.XXXXXX)"

    run_step "host packages" install_host_packages
    raise_inotify_limit
    check_podman
    detect_mirrors

    # Each image's digest covers its own inputs and its parent's digest, so a change
    # anywhere below rebuilds everything above it, and only that.
    local img="$TESTBED_DIR/images"
    DIGEST_ROOTFS="$(echo "${DEBOOTSTRAP_ARGS[*]} bookworm $AVSHIFT_TESTBED_MIRROR" | short_digest)"
    DIGEST_DEBIAN="$(echo "$DIGEST_ROOTFS $SECURITY_MIRROR" \
        "$(digest_of "$img/Containerfile.debian12")" | short_digest)"
    DIGEST_ROCKY_EMU="$(echo "$DIGEST_DEBIAN" \
        "$(digest_of "$img/Containerfile.rocky9-emu" "$img/rocky9-emu-release.spec")" \
        "$(digest_of_tree "$img/rocky9-emu")" | short_digest)"
    DIGEST_BUILDER="$(echo "$DIGEST_DEBIAN $(digest_of "$img/Containerfile.builder")" | short_digest)"

    if image_current "$IMAGE_DEBIAN" "$DIGEST_DEBIAN"; then
        log "reusing $IMAGE_DEBIAN (digest $DIGEST_DEBIAN)"
    else
        if image_current "$IMAGE_ROOTFS" "$DIGEST_ROOTFS"; then
            log "reusing $IMAGE_ROOTFS (digest $DIGEST_ROOTFS)"
        else
            run_step "debootstrap bookworm minbase -> $IMAGE_ROOTFS" \
                build_rootfs_image "$DIGEST_ROOTFS"
        fi
        run_step "image $IMAGE_DEBIAN" \
            build_image "$IMAGE_DEBIAN" "$DIGEST_DEBIAN" Containerfile.debian12
    fi
    run_step "images $IMAGE_ROCKY_EMU and $IMAGE_BUILDER" build_derived_images

    local packages_digest clamav_digest
    packages_digest="$(echo "$DIGEST_BUILDER $(digest_of_tree "$TESTBED_DIR/packages")" | short_digest)"
    # The signature container carries its build time, and the shipped policy allows
    # signatures 7 days old: the day is part of its digest, so it is rebuilt daily.
    clamav_digest="$(echo "$DIGEST_BUILDER $(digest_of_tree "$TESTBED_DIR/clamav")" \
        "$(date -u +%F)" | short_digest)"
    run_step "dummy vendor packages and repositories -> $AVSHIFT_TESTBED_OUT/packages" \
        build_artefact packages "$packages_digest" packages/build.sh
    run_step "offline ClamAV signatures -> $AVSHIFT_TESTBED_OUT/clamav" \
        build_artefact clamav "$clamav_digest" clamav/build.sh
    # Debian's lists change every few hours; a day-old copy still saves most of each
    # host's download, and is fetched again daily.
    local lists_digest
    lists_digest="$(echo "$DIGEST_DEBIAN $(digest_of_tree "$TESTBED_DIR/apt-lists")" \
        "$(date -u +%F)" | short_digest)"
    run_step "Debian's apt lists for the test hosts -> $AVSHIFT_TESTBED_OUT/apt-lists" \
        build_artefact apt-lists "$lists_digest" apt-lists/build.sh "$IMAGE_DEBIAN" host

    # Images of earlier builds lose their tag when rebuilt; drop them (only ours: they
    # carry our label) so repeated rebuilds do not fill the disk.
    podman image prune -f --filter "label=$DIGEST_LABEL" >/dev/null 2>&1 || true

    log "ready in $(fmt_ms $(($(now_ms) - SETUP_STARTED))):" \
        "images $IMAGE_DEBIAN $IMAGE_ROCKY_EMU, artefacts in $AVSHIFT_TESTBED_OUT"
}

main
