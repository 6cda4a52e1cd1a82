# shellcheck shell=bash
# Environment for every podman and molecule call the project makes. Sourced by setup.sh;
# source it by hand to run a scenario directly:
#   source tests/testbed/env.sh && cd "$AVSHIFT_ROOT" && molecule test -s av_scan
# tests/integration/test_molecule.py sets the same variables for the test command.

AVSHIFT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export AVSHIFT_ROOT
# Podman reads only this file (plus built-in defaults) while it is set: the runtime and
# ulimit settings the test bed needs, without rewriting the host's configuration.
export CONTAINERS_CONF="$AVSHIFT_ROOT/tests/testbed/containers.conf"
# Packages, repositories and signatures the scenarios mount at /srv/avshift-testbed.
# Outside the working tree, so that a collection tarball built from a tested checkout
# can never pick up the test doubles; host-wide, like the podman images they go with.
# molecule.yml files name the same default.
export AVSHIFT_TESTBED_OUT="${AVSHIFT_TESTBED_OUT:-/var/lib/avshift-testbed}"
# The scenarios live in molecule/ at the collection root; naming the glob keeps molecule
# from looking for extensions/molecule/ and warning about it.
export MOLECULE_GLOB="molecule/*/molecule.yml"
