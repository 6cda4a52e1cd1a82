#!/usr/bin/env bash
# Copies Debian's apt lists, as the test image's own sources fetch them, for the test
# hosts to start from (tests/testbed_hosts.py, molecule/_shared/tasks/apt_lists.yml).
# The image ships its lists empty; apt-get update on an empty host downloads every
# Packages and Translation file (19.5 s a host on the test machine, 2026-12-02), and on
# a host seeded with these only the InRelease files and what changed since (3.4 s).
# Runs inside localhost/avshift-debian12, with the network (setup.sh starts it).
#
#   build.sh OUT
set -euo pipefail

OUT=${1:?usage: build.sh OUT}
apt-get update -qq
# The lock and the partial downloads belong to the host that holds them.
find /var/lib/apt/lists -maxdepth 1 -type f ! -name lock -exec cp -p {} "$OUT/" \;
