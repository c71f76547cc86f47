//! `hop-build inspect`: what a package says it contains, and whether its
//! members match what it says (the signature is not checked: that needs a
//! key, see `verify`).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use anyhow::Result;
use hop_artifact::PackageManifest;
use hop_artifact::duration_text;
use hop_artifact::migration::{Backend, Phase};
use hop_artifact::package_manifest::Probe;
use hop_artifact::reader::PackageReader;
use hop_artifact::signature::claimed_issuer;
use serde::Serialize;

use crate::Refused;

/// What `inspect` found.
#[derive(Serialize)]
pub struct Inspection {
    pub manifest: PackageManifest,
    /// The key the signature names (not checked).
    pub signature_issuer: Option<String>,
    /// Whether every member matched its size and digest.
    pub members_intact: bool,
    /// What was wrong, when they did not.
    pub problem: Option<String>,
    pub bytes: u64,
    /// How the hop's own offline migrations run on each database (what a
    /// failure in the phase costs); empty when it has none.
    pub offline_phase: BTreeMap<Backend, String>,
}

pub fn inspect(package: &Path) -> Result<Inspection> {
    // A path that is not there, or a file that is not a package, is bad
    // input (exit 2).
    let file = File::open(package)
        .map_err(|e| Refused::new(format!("cannot open {}: {e}", package.display())))?;
    let bytes = file.metadata()?.len();
    let reader = PackageReader::open_untrusted(file).map_err(|e| {
        Refused::new(format!(
            "{} is not a hop package, or a damaged one: {e}",
            package.display()
        ))
    })?;
    let manifest = reader.manifest().clone();
    let signature_issuer = claimed_issuer(reader.signature_bytes());
    // Migrations are small text: kept to tell how the offline phase runs.
    let mut migrations: BTreeMap<String, String> = BTreeMap::new();
    let problem = reader
        .for_each_member(|member, data| {
            if member.path.starts_with("migrations/") {
                let mut text = String::new();
                data.read_to_string(&mut text)?;
                migrations.insert(member.path.clone(), text);
            }
            Ok(())
        })
        .err()
        .map(|e| e.to_string());
    let offline_phase = match &problem {
        Some(_) => BTreeMap::new(),
        None => manifest
            .offline_modes(|member| migrations.get(member).cloned())
            .map_err(|e| anyhow::anyhow!("{}: {e}", package.display()))?
            .into_iter()
            .map(|(backend, mode)| (backend, mode.describe()))
            .collect(),
    };
    Ok(Inspection {
        manifest,
        signature_issuer,
        members_intact: problem.is_none(),
        problem,
        bytes,
        offline_phase,
    })
}

/// Whether a cluster can take the hop node by node, per database when
/// the databases differ.
fn rolling_line(m: &PackageManifest) -> String {
    let on = m.rolling_databases();
    let supported = m.supported_databases();
    if !m.rolling || on.is_empty() {
        return "  rolling: no (offline migrations need every node stopped)\n".into();
    }
    let not: Vec<String> = supported
        .iter()
        .filter(|b| !on.contains(b))
        .map(|b| {
            let offline: Vec<String> = m
                .own_in_phase(Phase::Offline, Some(*b))
                .map(|x| x.file_name())
                .collect();
            format!("{b}, where {} is offline", offline.join(", "))
        })
        .collect();
    if !not.is_empty() {
        let on: Vec<&str> = on.iter().map(|b| b.as_str()).collect();
        return format!(
            "  rolling: on {} only (not on {}: those need every node stopped)\n",
            on.join(", "),
            not.join("; ")
        );
    }
    "  rolling: yes (no offline migration of its own: a cluster can take it node by node)\n".into()
}

/// The human-readable report.
pub fn render(i: &Inspection) -> String {
    let m = &i.manifest;
    let mut out = format!(
        "{}\n  format {}, built by {}, SOURCE_DATE_EPOCH {}, {} bytes\n",
        m.title(),
        m.format,
        m.builder,
        m.source_date_epoch,
        i.bytes
    );
    out += &format!(
        "  signature: by key {} (not checked here; `hop-build verify PKG --key PUB.asc` checks it)\n",
        i.signature_issuer.as_deref().unwrap_or("(unreadable)")
    );
    if let Some(db) = &m.database {
        let mins: Vec<String> = db
            .min_server_version
            .iter()
            .map(|(b, v)| format!("{b} ≥ {v}"))
            .collect();
        out += &format!("  databases: {}\n", mins.join(", "));
    }
    out += "components:\n";
    for c in &m.components {
        out += &format!("  {:<40} {}\n", c.nevra(), c.file);
    }
    if !m.configs.is_empty() {
        out += "configs:\n";
        for c in &m.configs {
            let keep = if c.preserve_local_edits {
                "keeps local edits"
            } else {
                "replaced"
            };
            out += &format!("  {:<40} {:04o}  {keep}\n", c.dest, c.mode);
        }
    }
    if !m.migrations.is_empty() {
        out += &format!("migrations ({}):\n", m.migrations.len());
        for mig in &m.migrations {
            let mut notes = Vec::new();
            if mig.batch {
                notes.push("batch".to_owned());
            }
            for b in mig.variants.keys() {
                match mig.phases.get(b) {
                    Some(phase) => notes.push(format!("{b} variant ({phase})")),
                    None => notes.push(format!("{b} variant")),
                }
            }
            let line = format!(
                "  {:<44} {:<8} {}",
                mig.file_name(),
                mig.phase.as_str(),
                notes.join(", ")
            );
            out += line.trim_end();
            out += "\n";
        }
        if let Some(last) = m.from_last_migration {
            out += &format!(
                "  from_last_migration: {last:04} (what a {} database holds)\n",
                m.from
            );
        }
        out += &rolling_line(m);
        if !m.tool_tables.is_empty() {
            let tables: Vec<&str> = m.tool_tables.iter().map(|t| t.table()).collect();
            out += &format!(
                "  tool tables: {} (made where missing, kept where it is)\n",
                tables.join(", ")
            );
        }
        for (backend, mode) in &i.offline_phase {
            out += &format!("  offline phase on {backend}: {mode}\n");
        }
    }
    if !m.waivers.is_empty() {
        out += &format!("waived lint findings ({}):\n", m.waivers.len());
        for w in &m.waivers {
            out += &format!(
                "  {}:{}  {}  because {}\n",
                w.file, w.line, w.rule, w.reason
            );
        }
    }
    if !m.expected_schemas.is_empty() {
        out += "expected schemas:\n";
        for (backend, s) in &m.expected_schemas {
            let digest = |member: &str| {
                m.member(member)
                    .map(|x| x.sha256.to_hex()[..16].to_owned())
                    .unwrap_or_default()
            };
            out += &format!(
                "  {:<11} {} {} ({}…), {} {} ({}…)\n",
                backend.as_str(),
                m.from,
                s.from,
                digest(&s.from),
                m.to,
                s.to,
                digest(&s.to)
            );
        }
    }
    for (revision, version) in &m.alembic_revisions {
        out += &format!("adopts Alembic revision {revision} as migration {version:04}\n");
    }
    if !m.services.is_empty() {
        out += "services (started together unless after: orders them; stopped in reverse):\n";
        for s in &m.services {
            let probe = match &s.health.probe {
                Probe::Http(u) => format!("http {u}"),
                Probe::Tcp(a) => format!("tcp {a}"),
                Probe::Command(c) => format!("command {c:?}"),
                Probe::Notify(_) => "systemd notify".to_owned(),
            };
            let after = match s.after.as_slice() {
                [] => String::new(),
                names => format!(", after {}", names.join(", ")),
            };
            out += &format!(
                "  {:<20} stop within {}, healthy within {} ({probe}){after}\n",
                s.name,
                duration_text::format(&s.stop_timeout),
                duration_text::format(&s.health.timeout)
            );
        }
    }
    for (hook, file) in &m.scripts {
        out += &format!("script {}: {file}\n", hook.as_str());
    }
    out += &match &i.problem {
        None => format!("members: {}, all match hop.yaml\n", m.members.len()),
        Some(p) => format!("members: {} — DAMAGED: {p}\n", m.members.len()),
    };
    out
}
