use super::*;

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
    let p = predict(&migrations, 2_000, 3_000, &steps);
    assert_eq!(p.window_ms, 6_700);
    assert_eq!(p.rollback_ms, 3_700);
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
    let steps = service_steps(&[], estimate(2, 100 << 20));
    assert_eq!(steps.ms, 2 * 500 + 2_000);
    assert!(
        steps
            .source
            .starts_with("an estimate (2 service(s), 100.0 MiB of RPMs)"),
        "{}",
        steps.source
    );
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
        rehearsed_at: "2026-11-22T05:00:00Z".into(),
        database_bytes: 0,
        dump_ms: 0,
        dump_bytes: 0,
        restore_ms: 0,
        migrations: Vec::new(),
        service_steps: estimate(2, 0),
        prediction: Prediction {
            window_ms,
            rollback_ms: 4_000,
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

#[test]
fn a_rehearsal_that_would_fill_the_disk_is_refused() {
    let dir = std::env::temp_dir();
    let url =
        hop_migrate::url::DatabaseUrl::parse("sqlite:///var/lib/manager/db.sqlite", &dir).unwrap();
    let why = lacking(&url, &dir, 1 << 60).unwrap();
    assert!(
        why.starts_with("the dump and the copy needs about "),
        "{why}"
    );
    assert!(lacking(&url, &dir, 1024).is_none());
}
