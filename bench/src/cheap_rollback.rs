//! What a failed offline phase costs on PostgreSQL with a million rows:
//! the hop's last offline migration (a unique index over a customer's
//! duplicates) fails, the phase rolls back in its own transaction, and the
//! rollback skips the restore. Measured from the operation log: the
//! rollback beyond stopping, starting and gating the services, against a
//! restore of the same database from the dump the hop took (what the
//! rollback cost before, and still costs on MariaDB).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use hop_exec::Direct;
use hop_migrate::backup;
use hop_migrate::url::DatabaseUrl;
use hop_testdata::sandbox::{Sandbox, SandboxOptions};

const ROWS: u64 = 1_000_000;

/// The 4.0.1 → 4.1.1 manifest with every migration of the hop offline and
/// a last one, 0013, that fails on duplicates.
fn failing_manifest(demo: &crate::restart::Demo) -> Result<PathBuf> {
    let dir = demo.work.join("offline-fails");
    let _ = std::fs::remove_dir_all(&dir);
    let m = dir.join("migrations");
    hop_testdata::product::write_migrations("4.1.1", &m)?;
    for file in [
        "0010_4.1.0_add_deployments_status.sql",
        "0011_index_deployments_name.sql",
    ] {
        let text = std::fs::read_to_string(m.join(file))?;
        std::fs::write(m.join(file), text.replace("phase=online", "phase=offline"))?;
        let _ = std::fs::remove_file(m.join("postgresql").join(file));
        let _ = std::fs::remove_file(m.join("mariadb").join(file));
    }
    std::fs::write(
        m.join("0013_unique_event_text.sql"),
        "-- hop: phase=offline\nCREATE UNIQUE INDEX events_text_unique ON events (text);\n",
    )?;
    let text = std::fs::read_to_string(&demo.manifest)?.replace(
        "migrations: release/4.1.1/migrations/",
        &format!("migrations: {}", std::path::absolute(&m)?.display()),
    );
    let manifest = demo.manifest.with_file_name("offline-fails.yaml");
    std::fs::write(&manifest, text)?;
    Ok(manifest)
}

pub struct CheapRollback {
    pub rows: u64,
    /// The rollback beyond the services' stop, start and health gate.
    pub beyond_services_seconds: f64,
    /// The service parts of the same rollback.
    pub services_seconds: f64,
    /// A restore of the same database from the hop's dump.
    pub restore_seconds: f64,
}

pub fn run(demo: &crate::restart::Demo) -> Result<CheapRollback> {
    let manifest = failing_manifest(demo)?;
    let package = demo.work.join("offline-fails.hop");
    demo.build(&manifest, &package)?;
    let root = PathBuf::from("/tmp/hop-bench-cheap");
    let opts = SandboxOptions {
        netns: false,
        ..SandboxOptions::postgresql()
    };
    let host = Sandbox::create(&root, &demo.release, &demo.public_key(), &opts)?;
    host.sql(&format!(
        "INSERT INTO events (id, deployment_id, message) \
         SELECT g, 1, 'event ' || g FROM generate_series(1000001, {}) g",
        1_000_000 + ROWS
    ))?;
    for id in [900_001, 900_002] {
        host.sql(&format!(
            "INSERT INTO events (id, deployment_id, message) VALUES ({id}, 1, 'twice')"
        ))?;
    }
    let out = Command::new("target/release/hop-install")
        .args(["apply", &package.display().to_string(), "--root"])
        .arg(&root)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(1) || !stderr.contains("it is not restored") {
        bail!("the failing hop did not roll back without a restore: {stderr}");
    }
    let logs = root.join("var/lib/hop/logs");
    let log = std::fs::read_dir(&logs)?
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .find(|t| t.contains("== rollback done"))
        .context("no log of the rollback")?;
    let parts = hop_testdata::oplog::rollback_parts(&log)?;
    let beyond = hop_testdata::oplog::beyond_services(&parts);
    let total: f64 = parts.iter().map(|(_, s)| s).sum();
    // The baseline: the dump the hop took, restored into the same database.
    let facts = std::fs::read_dir(root.join("var/lib/hop/operations"))?
        .flatten()
        .map(|e| e.path().join("backup/facts.json"))
        .find(|p| p.is_file())
        .context("no backup facts")?;
    let facts: serde_json::Value = serde_json::from_slice(&std::fs::read(&facts)?)?;
    let dump = PathBuf::from(
        facts["database_dump"]
            .as_str()
            .context("the backup took no dump")?,
    );
    let url = DatabaseUrl::parse(&host.database_url(), Path::new(&root))?;
    let start = Instant::now();
    backup::restore(&url, &dump, &Direct).context("restoring the hop's dump")?;
    let restore = start.elapsed().as_secs_f64();
    drop(host);
    let result = CheapRollback {
        rows: ROWS,
        beyond_services_seconds: beyond,
        services_seconds: total - beyond,
        restore_seconds: restore,
    };
    println!(
        "failed offline phase, {ROWS} rows: rollback {:.3}s beyond the services ({:.3}s), a restore {:.3}s",
        result.beyond_services_seconds, result.services_seconds, result.restore_seconds
    );
    Ok(result)
}
