# Sourced by bin/avshift and bin/test: finds a Python >= 3.12 and keeps .venv in step
# with requirements/dev.txt, so both README commands work on a fresh machine. A failure
# here is avshift's own (no usable Python, an install that broke): exit 4, as the exit
# code contract (plugins/plugin_utils/contract.py) says; it cannot import that contract
# before the venv exists, so tests/cli/test_exit_codes.py holds this file to it.
set -euo pipefail
AVSHIFT_EXIT_TOOL_FAILURE=4

AVSHIFT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AVSHIFT_VENV="${AVSHIFT_VENV:-$AVSHIFT_ROOT/.venv}"

_avshift_python_ok() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

_avshift_find_python() {
    local candidate version
    for candidate in "${AVSHIFT_PYTHON:-}" python3.14 python3.13 python3.12 python3; do
        [ -n "$candidate" ] || continue
        if _avshift_python_ok "$candidate"; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return 0
        fi
    done
    # pyenv shims refuse to run an interpreter that no pyenv version selects, so ask
    # pyenv for the installed ones and use their binaries directly.
    if command -v pyenv >/dev/null 2>&1; then
        for version in $(pyenv versions --bare 2>/dev/null | sort -rV); do
            candidate="$(pyenv prefix "$version" 2>/dev/null)/bin/python3"
            if [ -x "$candidate" ] && _avshift_python_ok "$candidate"; then
                echo "$candidate"
                return 0
            fi
        done
    fi
    return 1
}

# What .venv is built from: the pins and the package's own dependency table (tool
# settings elsewhere in pyproject.toml do not call for a rebuild).
_avshift_stamp() {
    {
        cat "$AVSHIFT_ROOT/requirements/dev.txt"
        sed -n '/^\[project\]/,/^\[project.scripts\]/p' "$AVSHIFT_ROOT/pyproject.toml"
    } | sha256sum | cut -d' ' -f1
}

avshift_ensure_venv() {
    local stamp_file="$AVSHIFT_VENV/.avshift-stamp" python started
    if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$(_avshift_stamp)" ]; then
        return 0
    fi
    if ! python="$(_avshift_find_python)"; then
        echo "avshift: error: Python >= 3.12 not found: install python3.12 (or newer), or set AVSHIFT_PYTHON to one" >&2
        exit "$AVSHIFT_EXIT_TOOL_FAILURE"
    fi
    started=$SECONDS
    echo "avshift: preparing $AVSHIFT_VENV with $python ..." >&2
    rm -rf "$AVSHIFT_VENV"
    "$python" -m venv "$AVSHIFT_VENV"
    "$AVSHIFT_VENV/bin/pip" install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" >&2 || true
    "$AVSHIFT_VENV/bin/pip" install --quiet -r "$AVSHIFT_ROOT/requirements/dev.txt" \
        -e "$AVSHIFT_ROOT" 2>&1 | grep -v "^WARNING: Location" >&2 || true
    "$AVSHIFT_VENV/bin/python" -c 'import avshift, ansible_runner, yaml' || {
        echo "avshift: error: installing the virtual environment $AVSHIFT_VENV failed (see pip's messages above); check the network to PyPI and run it again" >&2
        exit "$AVSHIFT_EXIT_TOOL_FAILURE"
    }
    # The repository root is the collection: link it where ansible-core (and the CLI's
    # imports) look for collections, so edits take effect without a rebuild.
    local site
    site="$("$AVSHIFT_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    mkdir -p "$site/ansible_collections/avshift"
    ln -sfn "$AVSHIFT_ROOT" "$site/ansible_collections/avshift/remediation"
    _avshift_stamp >"$stamp_file"
    echo "avshift: virtual environment ready in $((SECONDS - started)) s" >&2
}
