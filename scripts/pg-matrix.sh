#!/bin/sh
# make test's PostgreSQL server matrix: the migration engine (apply,
# phases, locks, batches, backup and restore, schemas, adoption), hop's
# adoption and drift, and a full apply rolled back (at its health gate,
# with the restore; and at a failing offline migration) against PostgreSQL
# 12, 13 and 14 (real servers, scripts/old-postgres.sh) with the machine's
# own client tools. The machine's own server runs everything in the main
# suite. Ends with a table of versions × results.
set -eu
./scripts/old-postgres.sh
table=""
failed=""
run() { # major, label, cargo test arguments…
    major=$1 label=$2
    shift 2
    if HOP_TEST_PG_PORT=54$major cargo nextest run --no-fail-fast --status-level fail --final-status-level slow "$@"; then
        result=ok
    else
        result=FAILED
        failed="$failed $major"
    fi
    table="$table$(printf '%-4s %-50s %s' "$major" "$label" "$result")
"
}
for major in 12 13 14; do
    echo
    echo "== PostgreSQL $major (port 54$major)"
    run "$major" "migration engine, backup and restore" -p hop-migrate --test engine -- postgresql
    run "$major" "adoption and drift" -p hop-installer --test adoption -- \
        a_column_changed_by_hand_is_named_on_postgresql \
        a_postgresql_database_with_golang_migrate_history_is_adopted
    run "$major" "apply rolled back at the health gate" -p hop-installer --test recovery -- \
        health_gate::begin_postgresql
    run "$major" "apply rolled back at a failing offline migration" -p hop-installer \
        --test cheap_rollback -- a_failed_offline_phase_on_postgresql_needs_no_restore
done
echo
echo "== PostgreSQL matrix"
printf '%-4s %-50s %s\n' "PG" "what" "result"
printf '%s' "$table"
if [ -n "$failed" ]; then
    echo "pg-matrix: failures on PostgreSQL$failed"
    exit 1
fi
