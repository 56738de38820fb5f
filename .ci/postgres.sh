#!/usr/bin/env bash
# Start Debian's PostgreSQL and create the test database; prints the URL for LORASUITE_TEST_PG_URL.
# Idempotent: safe to run when the cluster is already up or the role/database already exist.
set -euo pipefail
exec 3>&1 1>&2  # everything but the URL goes to stderr
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
pg_ctlcluster "$version" main start 2>/dev/null || true
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='lorasuite'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE lorasuite LOGIN SUPERUSER PASSWORD 'lorasuite'\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='lorasuite_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O lorasuite lorasuite_test"
echo "postgresql+psycopg://lorasuite:lorasuite@127.0.0.1:5432/lorasuite_test" >&3
