# Sourced by bin/avshift and bin/test: finds a Python >= 3.12 and keeps .venv in step
# with requirements/dev.txt, so both README commands work on a fresh machine; bin/test
# also keeps .venv-ansible-2.16 (the oldest supported ansible-core, on Python 3.10) in
# step with requirements/ansible-2.16.txt for tests/matrix. A failure
# here is avshift's own (no usable Python, an install that broke): exit 4, as the exit
# code contract (plugins/plugin_utils/contract.py) says; it cannot import that contract
# before the venv exists, so tests/cli/test_exit_codes.py holds this file to it.
set -euo pipefail
AVSHIFT_EXIT_TOOL_FAILURE=4

AVSHIFT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AVSHIFT_VENV="${AVSHIFT_VENV:-$AVSHIFT_ROOT/.venv}"

# Whether $1 runs as a Python of at least $2 and at most $3 (minor versions, "3.12").
_avshift_python_ok() {
    "$1" -c 'import sys
low, high = (tuple(int(n) for n in v.split(".")) for v in sys.argv[1:])
sys.exit(not low <= sys.version_info[:2] <= high)' "$2" "$3" >/dev/null 2>&1
}

# The path of a Python between $1 and $2 (minor versions): the first of the names after
# them on PATH that is one, else the newest such pyenv version.
_avshift_find_python() {
    local low="$1" high="$2" candidate version
    shift 2
    for candidate in "$@"; do
        [ -n "$candidate" ] || continue
        if _avshift_python_ok "$candidate" "$low" "$high"; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return 0
        fi
    done
    # pyenv shims refuse to run an interpreter that no pyenv version selects, so ask
    # pyenv for the installed ones and use their binaries directly.
    if command -v pyenv >/dev/null 2>&1; then
        for version in $(pyenv versions --bare 2>/dev/null | sort -rV); do
            candidate="$(pyenv prefix "$version" 2>/dev/null)/bin/python3"
            if [ -x "$candidate" ] && _avshift_python_ok "$candidate" "$low" "$high"; then
                echo "$candidate"
                return 0
            fi
        done
    fi
    return 1
}

# What a venv is built from: its pins ($1), and for .venv the package's own dependency
# table (tool settings elsewhere in pyproject.toml do not call for a rebuild).
_avshift_stamp() {
    {
        cat "$1"
        [ -z "${2:-}" ] || sed -n '/^\[project\]/,/^\[project.scripts\]/p' "$AVSHIFT_ROOT/pyproject.toml"
    } | sha256sum | cut -d' ' -f1
}

# Whether venv $1 was built from requirements $2 as they are now ($3: as for _avshift_stamp).
_avshift_venv_current() {
    [ -f "$1/.avshift-stamp" ] && [ "$(cat "$1/.avshift-stamp")" = "$(_avshift_stamp "$2" "${3:-}")" ]
}

# Builds venv $1 with Python $2 from requirements $3 (plus this checkout as a package
# when $4 is "editable"); $5 names the modules the finished venv must import.
_avshift_build_venv() {
    local venv="$1" python="$2" requirements="$3" editable="${4:-}" check="$5"
    local started=$SECONDS site
    echo "avshift: preparing $venv with $python ..." >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" >&2 || true
    "$venv/bin/pip" install --quiet -r "$requirements" ${editable:+-e "$AVSHIFT_ROOT"} 2>&1 \
        | grep -v "^WARNING: Location" >&2 || true
    "$venv/bin/python" -c "import $check" || {
        echo "avshift: error: installing the virtual environment $venv failed (see pip's messages above); check the network to PyPI and run it again" >&2
        exit "$AVSHIFT_EXIT_TOOL_FAILURE"
    }
    # The repository root is the collection: link it where ansible-core (and the CLI's
    # imports) look for collections, so edits take effect without a rebuild.
    site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    mkdir -p "$site/ansible_collections/avshift"
    ln -sfn "$AVSHIFT_ROOT" "$site/ansible_collections/avshift/remediation"
    _avshift_stamp "$requirements" "$editable" >"$venv/.avshift-stamp"
    echo "avshift: virtual environment ready in $((SECONDS - started)) s" >&2
}

avshift_ensure_venv() {
    local python
    _avshift_venv_current "$AVSHIFT_VENV" "$AVSHIFT_ROOT/requirements/dev.txt" editable && return 0
    if ! python="$(_avshift_find_python 3.12 3.99 "${AVSHIFT_PYTHON:-}" python3.14 python3.13 python3.12 python3)"; then
        echo "avshift: error: Python >= 3.12 not found: install python3.12 (or newer), or set AVSHIFT_PYTHON to one" >&2
        exit "$AVSHIFT_EXIT_TOOL_FAILURE"
    fi
    _avshift_build_venv "$AVSHIFT_VENV" "$python" "$AVSHIFT_ROOT/requirements/dev.txt" editable \
        "avshift, ansible_runner, yaml"
}

# The oldest supported ansible-core's venv, for tests/matrix (bin/test only).
AVSHIFT_OLDEST_VENV="${AVSHIFT_OLDEST_VENV:-$AVSHIFT_ROOT/.venv-ansible-2.16}"

avshift_ensure_oldest_venv() {
    local python
    _avshift_venv_current "$AVSHIFT_OLDEST_VENV" "$AVSHIFT_ROOT/requirements/ansible-2.16.txt" && return 0
    if ! python="$(_avshift_find_python 3.10 3.10 python3.10)"; then
        echo "avshift: error: Python 3.10 not found (the oldest controller Python, for ansible-core 2.16 in tests/matrix): install python3.10, e.g. \`pyenv install 3.10\`" >&2
        exit "$AVSHIFT_EXIT_TOOL_FAILURE"
    fi
    _avshift_build_venv "$AVSHIFT_OLDEST_VENV" "$python" "$AVSHIFT_ROOT/requirements/ansible-2.16.txt" "" \
        "ansible, molecule, yaml"
}
