#!/bin/sh
# make test's PostgreSQL server matrix: the migration engine (apply,
# phases, locks, batches, backup and restore, schemas, adoption), hop's
# adoption and drift, and a full apply rolled back (at its health gate,
# with the restore; and at a failing offline migration) against PostgreSQL
# 12, 13 and 14 (real servers, scripts/old-postgres.sh) with the machine's
# own client tools. The machine's own server runs everything in the main
# suite. One nextest run per server, its tests side by side; ends with a
# table of versions × results.
set -eu
./scripts/old-postgres.sh
tests='package(hop-migrate) & binary(engine) & test(postgresql)
| package(hop-installer) & binary(adoption) & (test(=a_column_changed_by_hand_is_named_on_postgresql) | test(=a_postgresql_database_with_golang_migrate_history_is_adopted))
| package(hop-installer) & binary(recovery) & test(health_gate::begin_postgresql)
| package(hop-installer) & binary(cheap_rollback) & test(=a_failed_offline_phase_on_postgresql_needs_no_restore)'
what="engine, backup and restore; adoption and drift; apply rolled back at the health gate and at a failing offline migration"
table=""
failed=""
for major in 12 13 14; do
    echo
    echo "== PostgreSQL $major (port 54$major)"
    if HOP_TEST_PG_PORT=54$major cargo nextest run --no-fail-fast --status-level fail \
        --final-status-level slow -p hop-migrate -p hop-installer -E "$tests"; then
        result=ok
    else
        result=FAILED
        failed="$failed $major"
    fi
    table="$table$(printf '%-4s %-6s' "$major" "$result")
"
done
echo
echo "== PostgreSQL matrix: $what"
printf '%-4s %s\n' "PG" "result"
printf '%s' "$table"
if [ -n "$failed" ]; then
    echo "pg-matrix: failures on PostgreSQL$failed"
    exit 1
fi
