#!/bin/sh
# make test's PostgreSQL server matrix: the migration engine (apply,
# phases, locks, batches, backup and restore, schemas, adoption), hop's
# adoption and drift, and one full apply rolled back at its health gate
# (restore included), against PostgreSQL 12, 13 and 14 (real servers,
# scripts/old-postgres.sh) with the machine's own client tools. The
# machine's own server runs everything in the main suite.
set -eu
./scripts/old-postgres.sh
failed=""
for major in 12 13 14; do
    echo
    echo "== PostgreSQL $major (port 54$major)"
    export HOP_TEST_PG_PORT=54$major
    cargo test -q --no-fail-fast -p hop-migrate --test engine -- postgresql || failed="$failed $major"
    cargo test -q --no-fail-fast -p hop-installer --test adoption --test recovery -- \
        a_column_changed_by_hand_is_named_on_postgresql \
        a_postgresql_database_with_golang_migrate_history_is_adopted \
        health_gate::begin_postgresql || failed="$failed $major"
done
if [ -n "$failed" ]; then
    echo "pg-matrix: failures on PostgreSQL$failed"
    exit 1
fi
echo "pg-matrix: PostgreSQL 12, 13 and 14 pass"
