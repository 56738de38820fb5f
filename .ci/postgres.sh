#!/usr/bin/env bash
# Start Debian's PostgreSQL and create the test database; prints the URL for LORASUITE_TEST_PG_URL.
# Idempotent: safe to run when the cluster is already up or the role/database already exist.
set -euo pipefail
exec 3>&1 1>&2  # everything but the URL goes to stderr
here=$(cd "$(dirname "$0")" && pwd)
as_postgres() { (cd / && su postgres -c "$1"); }  # from /, which the postgres user can read
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  "$here/closed" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
# Without inherited descriptors: a postmaster holding fd 3 (the caller's $(...)) would make it wait forever.
"$here/closed" pg_ctlcluster "$version" main start >/dev/null 2>&1 || true  # already running is fine
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='lorasuite'\"" | grep -q 1 ||
  as_postgres "psql -qc \"CREATE ROLE lorasuite LOGIN SUPERUSER PASSWORD 'lorasuite'\""
as_postgres "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='lorasuite_test'\"" | grep -q 1 ||
  as_postgres "createdb -O lorasuite lorasuite_test"
echo "postgresql+psycopg://lorasuite:lorasuite@127.0.0.1:5432/lorasuite_test" >&3
