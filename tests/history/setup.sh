#!/usr/bin/env bash
# A PostgreSQL server for the history store's tests: Debian's postgresql, a cluster of its
# own under /var/lib/avshift-testbed/pg, reachable on a Unix socket only (no TCP port at
# all), with password authentication for the test role, whose password is in a file only
# root can read (the tests give it as PGPASSWORD, never in a URL). Safe to run again: a
# running cluster is left as it is.
set -euo pipefail

started=$SECONDS
base=/var/lib/avshift-testbed/pg
data=$base/data
socket_dir=$base/run
port=55432
say() { echo "tests/history/setup.sh: $*"; }

if [ "$(id -u)" != 0 ]; then
    say "error: setting up PostgreSQL needs root (apt-get, the postgres user)" >&2
    exit 1
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    say "installing Debian's postgresql ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The package's own cluster is not used; only its programs and the postgres user.
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
as_postgres() { runuser -u postgres -- "$@"; }

if as_postgres "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "PostgreSQL already running on $socket_dir (port $port), nothing to do ($((SECONDS - started)) s)"
    exit 0
fi
install -d -o postgres -g postgres -m 0700 "$base" "$socket_dir"
if [ ! -s "$data/PG_VERSION" ]; then
    rm -rf "$data"
    umask 077
    head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$base/password"
    chmod 0600 "$base/password"
    as_postgres "$bindir/initdb" -D "$data" -U postgres --auth-local=peer \
        --auth-host=reject -E UTF8 --locale=C.UTF-8 >/dev/null
    # postgres itself by peer (this script); every other role by password.
    cat > "$data/pg_hba.conf" <<'EOF'
local all postgres peer
local all all scram-sha-256
EOF
fi
as_postgres "$bindir/pg_ctl" -D "$data" -l "$base/server.log" -w -s \
    -o "-c listen_addresses='' -c unix_socket_directories=$socket_dir -c port=$port" start
password=$(cat "$base/password")
as_postgres "$bindir/psql" -h "$socket_dir" -p "$port" -d postgres -qAt -v ON_ERROR_STOP=1 \
    -v pw="$password" >/dev/null <<'EOF'
SELECT format('CREATE ROLE avshift LOGIN CREATEDB PASSWORD %L', :'pw')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'avshift') \gexec
SELECT format('ALTER ROLE avshift PASSWORD %L', :'pw') \gexec
EOF
say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on $socket_dir (port $port, no TCP), role avshift, ready in $((SECONDS - started)) s"
