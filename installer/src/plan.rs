//! `apply --dry-run`: the steps and everything each would change, computed
//! from the host as it is. Nothing is changed.

use hop_artifact::PackageManifest;
use hop_artifact::digest::Sha256Digest;
use hop_artifact::duration_text;
use hop_artifact::migration::Phase;
use hop_migrate::status::Status;

use crate::host::Host;
use crate::journal::Step;
use crate::rpmdb::RpmDb;
use crate::runner::Runner;
use crate::state::{HostState, StateDir};

/// One line per step, with what it would do.
pub fn render(
    host: &Host,
    m: &PackageManifest,
    runner: &Runner,
    status: Option<&Status>,
) -> String {
    let mut out = format!(
        "plan for {} on {} (dry run: nothing was changed)\n",
        m.title(),
        host.root.display()
    );
    let state = HostState::load(&StateDir::of(host)).ok().flatten();
    let db = RpmDb::new(runner, &host.root);
    let pending = |phase: Phase| -> String {
        let names: Vec<String> = status
            .map(|s| {
                s.pending()
                    .filter(|e| e.phase == phase)
                    .map(|e| e.file.clone())
                    .collect()
            })
            .unwrap_or_default();
        if names.is_empty() {
            "none pending".into()
        } else {
            names.join(", ")
        }
    };
    for (i, step) in Step::ALL.iter().enumerate() {
        let what = match step {
            Step::Stage => format!(
                "extract {} members ({} bytes) under var/lib/hop/operations/",
                m.members.len(),
                m.members.iter().map(|x| x.size).sum::<u64>()
            ),
            Step::Backup => format!(
                "dump the database ({}), archive {} config(s), keep the installed RPMs",
                host.config.database.url.split("://").next().unwrap_or("?"),
                m.configs.len()
            ),
            Step::OnlineMigrations => pending(Phase::Online),
            Step::StopServices => m
                .services
                .iter()
                .rev()
                .map(|s| match &s.drain {
                    Some(d) => format!(
                        "{} (drain {} ≤{}, stop ≤{})",
                        s.name,
                        d.signal,
                        duration_text::format(&d.timeout),
                        duration_text::format(&s.stop_timeout)
                    ),
                    None => format!(
                        "{} (stop ≤{})",
                        s.name,
                        duration_text::format(&s.stop_timeout)
                    ),
                })
                .collect::<Vec<_>>()
                .join(", "),
            Step::InstallRpms => m
                .components
                .iter()
                .map(|c| {
                    let now = db
                        .installed(&c.name)
                        .ok()
                        .and_then(|v| v.into_iter().next())
                        .unwrap_or_else(|| "(none)".into());
                    format!("{now} → {}", c.nevra())
                })
                .collect::<Vec<_>>()
                .join(", "),
            Step::DeployConfigs => m
                .configs
                .iter()
                .map(|c| {
                    let current = host
                        .fs
                        .read(&c.dest)
                        .ok()
                        .flatten()
                        .map(|b| Sha256Digest::of(&b));
                    let new = m.member(&c.file).map(|x| x.sha256);
                    let pristine = |d: &Sha256Digest| {
                        Some(*d) == c.from_sha256
                            || state.as_ref().and_then(|s| s.configs.get(&c.dest)) == Some(d)
                    };
                    let action = match current {
                        None => "install".to_owned(),
                        Some(d) if Some(d) == new => "unchanged".to_owned(),
                        Some(d) if c.preserve_local_edits && !pristine(&d) => {
                            format!("keep local edits, new version to {}.hopnew", c.dest)
                        }
                        Some(_) => "replace".to_owned(),
                    };
                    format!("{}: {action}", c.dest)
                })
                .collect::<Vec<_>>()
                .join("; "),
            Step::OfflineMigrations => pending(Phase::Offline),
            Step::StartServices => m
                .services
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Step::HealthGate => m
                .services
                .iter()
                .map(|s| {
                    format!(
                        "{} within {}",
                        s.name,
                        duration_text::format(&s.health.timeout)
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            Step::Commit => format!("record {} as installed", m.to),
            Step::PostMigrations => pending(Phase::Post),
            Step::Cleanup => "remove staging and older backups".into(),
        };
        out += &format!("  {:>2}. {:<28} {what}\n", i + 1, step.title());
    }
    out
}
