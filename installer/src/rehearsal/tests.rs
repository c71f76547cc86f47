use super::*;
use hop_artifact::migration::Backend;

fn m(file: &str, phase: Phase, duration_ms: u64) -> Measured {
    Measured {
        file: file.into(),
        phase,
        duration_ms,
        rows: 0,
        batches: 1,
        lock_wait_ms: Some(0),
        growth_bytes: 0,
    }
}

#[test]
fn the_window_is_the_offline_migrations_and_the_service_steps() {
    let migrations = [
        m("0010_add.sql", Phase::Online, 400),
        m("0011_rewrite.sql", Phase::Offline, 5_000),
        m("0012_index.sql", Phase::Offline, 1_000),
        m("0013_backfill.sql", Phase::Post, 9_000),
    ];
    let steps = ServiceSteps {
        ms: 700,
        source: "x".into(),
    };
    let p = predict(&migrations, 2_000, 3_000, &steps, true);
    assert_eq!(p.window_ms, 6_700);
    assert_eq!(p.rollback_ms, 3_700);
    // An online migration committed before the stop: a failed offline
    // phase restores too.
    assert_eq!(p.offline_failure_rollback_ms, 3_700);
    let offline_only: Vec<Measured> = migrations
        .iter()
        .filter(|m| m.phase != Phase::Online)
        .cloned()
        .collect();
    let q = predict(&offline_only, 2_000, 3_000, &steps, true);
    assert_eq!(q.offline_failure_rollback_ms, 700, "no restore");
    assert_eq!(q.rollback_ms, 3_700, "the health gate still restores");
    let per_migration = predict(&offline_only, 2_000, 3_000, &steps, false);
    assert_eq!(per_migration.offline_failure_rollback_ms, 3_700);
    assert_eq!(p.before_window_ms, 2_400);
    assert_eq!(p.after_commit_ms, 9_000);
    assert_eq!(
        p.slowest,
        [
            "0013_backfill.sql (post, 9.00s)",
            "0011_rewrite.sql (offline, 5.00s)",
            "0012_index.sql (offline, 1.00s)"
        ]
    );
}

#[test]
fn a_host_without_a_hop_on_record_gets_the_estimate() {
    // supervisord's startsecs of 1 s each, a 2 s settle: two services
    // that start together cost one start, a third after them another.
    let steps = service_steps(&[], estimate(&[vec![1000, 1000]], 2000, 100 << 20));
    assert_eq!(steps.ms, (200 + 1000) + 2000 + 2_000);
    assert!(
        steps
            .source
            .starts_with("an estimate (2 service(s) in 1 wave(s) started as their manager waits, 2.0s to settle, 100.0 MiB of RPMs)"),
        "{}",
        steps.source
    );
    let ordered = estimate(&[vec![1000, 500], vec![1000]], 2000, 0);
    assert_eq!(ordered.ms, 2 * (200 + 1000) + 2000);
}

#[test]
fn a_rehearsal_is_kept_per_package() {
    let a = package_key(b"hop.yaml of one package");
    let b = package_key(b"hop.yaml of another");
    assert_eq!(a.len(), 64);
    assert_ne!(a, b);
}

fn rehearsal(window_ms: u64) -> Rehearsal {
    Rehearsal {
        schema: SCHEMA.into(),
        package: "manager 4.0.1 → 4.1.1".into(),
        from: "4.0.1".into(),
        to: "4.1.1".into(),
        manifest_sha256: package_key(b"x"),
        backend: "postgresql".into(),
        database: "postgresql://manager@db/manager".into(),
        rehearsed_at: "2026-11-22T05:00:00Z".into(),
        database_bytes: 1 << 30,
        copy_in: "a temporary database on the live server".into(),
        dump_ms: 0,
        dump_bytes: 0,
        restore_ms: 0,
        migrations: Vec::new(),
        service_steps: estimate(&[vec![0, 0]], 0, 0),
        prediction: Prediction {
            window_ms,
            rollback_ms: 4_000,
            offline_failure_rollback_ms: 4_000,
            before_window_ms: 0,
            after_commit_ms: 0,
            slowest: Vec::new(),
        },
    }
}

#[test]
fn max_downtime_lets_a_hop_run_only_when_its_rehearsal_predicts_less() {
    use std::time::Duration;
    let ok = within(Some(&rehearsal(9_000)), Duration::from_secs(10)).unwrap();
    assert!(ok.contains("predicts a downtime window of 9.00s"), "{ok}");
    let over = within(Some(&rehearsal(12_500)), Duration::from_secs(10)).unwrap_err();
    assert!(
        over.ends_with("12.50s (rollback 4.00s), more than --max-downtime 10.00s"),
        "{over}"
    );
    let none = within(None, Duration::from_secs(10)).unwrap_err();
    assert!(
        none.contains("run `hop-install rehearse PKG` first"),
        "{none}"
    );
}

fn disk(dir: &str, device: u64, free_gib: u64) -> space::Disk {
    space::Disk {
        dir: dir.into(),
        device,
        free: free_gib << 30,
    }
}

#[test]
fn a_rehearsal_that_would_fill_the_disk_is_refused() {
    let state = disk("/var/lib/hop", 1, 1);
    let why = space::decide(Backend::Sqlite, 1 << 30, &state, None, None, false).unwrap_err();
    assert!(
        why.starts_with("the dump and the copy: about 2.4 GiB needed under /var/lib/hop"),
        "{why}"
    );
    assert_eq!(
        space::decide(Backend::Sqlite, 1 << 20, &state, None, None, false),
        Ok(space::Place::Beside)
    );
}

#[test]
fn the_dump_and_the_copy_on_one_disk_must_fit_together() {
    // 10 GiB database, one 20 GiB disk: 12 GiB dump + 12 GiB copy do not fit.
    let state = disk("/var/lib/hop", 1, 20);
    let server = disk("/var/lib/postgresql", 1, 20);
    let why = space::decide(
        Backend::Mariadb,
        10 << 30,
        &state,
        Some(&server),
        None,
        false,
    )
    .unwrap_err();
    assert!(
        why.starts_with(
            "the dump and the scratch copy on the database server: about 24.0 GiB needed"
        ),
        "{why}"
    );
    // On two disks each holds its part.
    let server = disk("/var/lib/postgresql", 2, 20);
    assert_eq!(
        space::decide(
            Backend::Mariadb,
            10 << 30,
            &state,
            Some(&server),
            None,
            false
        ),
        Ok(space::Place::Beside)
    );
}

#[test]
fn a_tight_postgresql_server_rehearses_in_a_private_cluster() {
    let state = disk("/var/lib/hop", 1, 100);
    let tight = disk("/var/lib/postgresql", 2, 5);
    let scratch = disk("/var/tmp", 1, 100);
    assert_eq!(
        space::decide(
            Backend::Postgresql,
            10 << 30,
            &state,
            Some(&tight),
            Some(&scratch),
            false
        ),
        Ok(space::Place::Cluster("/var/tmp".into()))
    );
    // MariaDB has no private server: refused, naming the server's disk.
    let why = space::decide(
        Backend::Mariadb,
        10 << 30,
        &state,
        Some(&tight),
        Some(&scratch),
        false,
    )
    .unwrap_err();
    assert!(
        why.contains("under /var/lib/postgresql, which has 5.0 GiB free"),
        "{why}"
    );
    // No room in the scratch directory either: both reasons are given.
    let small = disk("/var/tmp", 3, 5);
    let why = space::decide(
        Backend::Postgresql,
        10 << 30,
        &state,
        Some(&tight),
        Some(&small),
        false,
    )
    .unwrap_err();
    assert!(
        why.contains("/var/lib/postgresql") && why.contains("in a private cluster instead, a private cluster: about 12.0 GiB needed under /var/tmp"),
        "{why}"
    );
    // Asked for, the cluster is used even with room on the server.
    let roomy = disk("/var/lib/postgresql", 2, 500);
    let on_roomy = |forced| {
        space::decide(
            Backend::Postgresql,
            1 << 30,
            &state,
            Some(&roomy),
            Some(&scratch),
            forced,
        )
    };
    assert_eq!(on_roomy(true), Ok(space::Place::Cluster("/var/tmp".into())));
    assert_eq!(on_roomy(false), Ok(space::Place::Beside));
}

#[test]
fn a_kept_rehearsal_of_another_database_or_size_is_stale() {
    let r = rehearsal(1000);
    assert_eq!(stale(&r, "postgresql://manager@db/manager", 1 << 30), None);
    assert_eq!(stale(&r, "postgresql://manager@db/manager", 3 << 29), None);
    let other = stale(&r, "postgresql://manager@other/manager", 1 << 30).unwrap();
    assert!(
        other.contains("it copied postgresql://manager@db/manager"),
        "{other}"
    );
    let grown = stale(&r, "postgresql://manager@db/manager", 3 << 30).unwrap();
    assert!(grown.contains("then and is"), "{grown}");
    assert!(stale(&r, "postgresql://manager@db/manager", 1 << 28).is_some());
}
