//! Which of a hop's migrations run in which phase on each database, and
//! what follows from it: whether the hop can roll node by node there, and
//! whether its offline phase runs in one transaction.

use std::collections::BTreeMap;

use super::{Migration, PackageManifest};
use crate::migration::{Backend, OfflineMode, Phase};

impl PackageManifest {
    /// This hop's own migrations: those after `from_last_migration`.
    pub fn own_migrations(&self) -> impl Iterator<Item = &Migration> {
        let from_last = self.from_last_migration.unwrap_or(0);
        self.migrations
            .iter()
            .filter(move |m| m.version > from_last)
    }

    /// This hop's own migrations that run in `phase` on `backend` (`None`:
    /// by their portable files' phases).
    pub fn own_in_phase(
        &self,
        phase: Phase,
        backend: Option<Backend>,
    ) -> impl Iterator<Item = &Migration> {
        self.own_migrations()
            .filter(move |m| m.phase_on(backend) == phase)
    }

    /// Whether the hop can be applied node by node on `backend`: no
    /// offline migration of its own there (they need every node stopped).
    pub fn can_roll_on(&self, backend: Option<Backend>) -> bool {
        self.own_in_phase(Phase::Offline, backend).next().is_none()
    }

    /// The databases the hop supports on which it can roll (every
    /// database when it names none and has no offline migration).
    pub fn rolling_databases(&self) -> Vec<Backend> {
        self.supported_databases()
            .into_iter()
            .filter(|&b| self.can_roll_on(Some(b)))
            .collect()
    }

    /// The databases the hop supports (every one when it names none).
    pub fn supported_databases(&self) -> Vec<Backend> {
        match &self.database {
            Some(d) => d.min_server_version.keys().copied().collect(),
            None => Backend::ALL.to_vec(),
        }
    }

    /// Whether the hop can be applied node by node on some database.
    pub fn can_roll(&self) -> bool {
        !self.rolling_databases().is_empty()
    }

    /// How this hop's own offline migrations run on each database it
    /// supports (on PostgreSQL as its oldest supported server would), given
    /// `text`, the contents of a member; empty when the hop has none.
    pub fn offline_modes(
        &self,
        text: impl Fn(&str) -> Option<String>,
    ) -> Result<BTreeMap<Backend, OfflineMode>, String> {
        let mut modes = BTreeMap::new();
        let Some(database) = &self.database else {
            return Ok(modes);
        };
        for (&backend, min) in &database.min_server_version {
            let offline: Vec<&Migration> =
                self.own_in_phase(Phase::Offline, Some(backend)).collect();
            if offline.is_empty() {
                continue;
            }
            let mut parsed = Vec::new();
            for m in &offline {
                let member = m.file_for(backend);
                let sql = text(member).ok_or_else(|| format!("{member} is not in the package"))?;
                let statements = crate::migration::split_statements(&sql, backend)
                    .map_err(|e| format!("{member}: {e}"))?;
                parsed.push((m.file_name(), statements));
            }
            let server = (backend == Backend::Postgresql)
                .then(|| crate::migration::major_of(min))
                .flatten();
            let mode = OfflineMode::of(
                parsed.iter().map(|(f, s)| (f.as_str(), s.as_slice())),
                backend,
                server,
            );
            modes.insert(backend, mode);
        }
        Ok(modes)
    }
}
