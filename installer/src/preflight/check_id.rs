//! hop's own checks by name: each one's stable id (what `--accept` and
//! `check --json` name), its title (the table's CHECK column), whether an
//! operator may accept its WARNING or FAILURE, and whether it presupposes
//! that the host runs the hop's `from` version. One list: the acceptance
//! rules, the CLI's help and docs/check-report.md (a test compares it)
//! all come from it.

/// One of hop's own checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    Signature,
    Privileges,
    UnfinishedOperation,
    Product,
    Rolling,
    InstalledVersion,
    VersionRecords,
    Components,
    InstalledFiles,
    RpmTransaction,
    Configs,
    Database,
    SchemaHistory,
    PreviousPostMigrations,
    Adoption,
    SchemaDrift,
    DatabaseExpanded,
    ClusterNodes,
    NodeName,
    PostMigrations,
    DiskSpace,
    Services,
    StopTimeouts,
    Downtime,
}

use CheckId::*;

impl CheckId {
    /// Every check, in the order the preflight runs them.
    pub const ALL: [CheckId; 24] = [
        Signature,
        Privileges,
        UnfinishedOperation,
        Product,
        Rolling,
        InstalledVersion,
        VersionRecords,
        Components,
        InstalledFiles,
        RpmTransaction,
        Configs,
        Database,
        SchemaHistory,
        PreviousPostMigrations,
        Adoption,
        SchemaDrift,
        DatabaseExpanded,
        ClusterNodes,
        NodeName,
        PostMigrations,
        DiskSpace,
        Services,
        StopTimeouts,
        Downtime,
    ];

    /// (stable id, title, may be accepted).
    fn facts(self) -> (&'static str, &'static str, bool) {
        match self {
            Signature => ("hop.signature", "signature", false),
            Privileges => ("hop.privileges", "privileges", false),
            UnfinishedOperation => ("hop.unfinished-operation", "unfinished operation", false),
            Product => ("hop.product", "product", false),
            Rolling => ("hop.rolling", "rolling", false),
            InstalledVersion => ("hop.installed-version", "installed version", false),
            VersionRecords => ("hop.version-records", "version records agree", false),
            Components => ("hop.components", "components", false),
            InstalledFiles => ("hop.installed-files", "installed files", false),
            RpmTransaction => ("hop.rpm-transaction", "rpm transaction", false),
            Configs => ("hop.configs", "configs", false),
            Database => ("hop.database", "database", false),
            SchemaHistory => ("hop.schema-history", "schema history", false),
            PreviousPostMigrations => (
                "hop.previous-post-migrations",
                "previous post migrations",
                false,
            ),
            Adoption => ("hop.adoption", "adoption", false),
            SchemaDrift => ("hop.schema-drift", "schema", true),
            DatabaseExpanded => ("hop.database-expanded", "database expanded", false),
            ClusterNodes => ("hop.cluster-nodes", "cluster nodes", false),
            NodeName => ("hop.node-name", "node name", false),
            PostMigrations => ("hop.post-migrations", "post migrations", false),
            DiskSpace => ("hop.disk-space", "disk space", true),
            Services => ("hop.services", "services", true),
            StopTimeouts => ("hop.stop-timeouts", "stop timeouts", true),
            Downtime => ("hop.downtime", "downtime", false),
        }
    }

    /// The stable id (`hop.disk-space`).
    pub fn id(self) -> &'static str {
        self.facts().0
    }

    /// The title the table shows (`disk space`).
    pub fn title(self) -> &'static str {
        self.facts().1
    }

    /// Whether `--accept` may let its WARNING or FAILURE pass: only checks
    /// whose failure hop can live through, never the signature, the
    /// versions, the database's history or what a rollback depends on.
    pub fn may_accept(self) -> bool {
        self.facts().2
    }

    /// Whether it describes the host only as the `from` version has it:
    /// after the version check fails it is skipped, saying so, rather than
    /// piling up consequences of the one root cause.
    pub fn presupposes_the_version(self) -> bool {
        matches!(
            self,
            Components
                | InstalledFiles
                | RpmTransaction
                | Configs
                | Database
                | DiskSpace
                | Services
        )
    }

    /// The check with this stable id.
    pub fn from_id(id: &str) -> Option<CheckId> {
        CheckId::ALL.into_iter().find(|c| c.id() == id)
    }

    /// The ids `--accept` takes, as the help and the docs list them
    /// (`hop.disk-space, hop.schema-drift, … and hop.stop-timeouts`).
    pub fn acceptable_list() -> String {
        let ids: Vec<&str> = CheckId::ALL
            .into_iter()
            .filter(|c| c.may_accept())
            .map(CheckId::id)
            .collect();
        match ids.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => ids.join(""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_titles_are_unique() {
        let mut ids: Vec<&str> = CheckId::ALL.iter().map(|c| c.id()).collect();
        let mut titles: Vec<&str> = CheckId::ALL.iter().map(|c| c.title()).collect();
        ids.sort();
        ids.dedup();
        titles.sort();
        titles.dedup();
        assert_eq!(ids.len(), CheckId::ALL.len());
        assert_eq!(titles.len(), CheckId::ALL.len());
        for c in CheckId::ALL {
            assert_eq!(CheckId::from_id(c.id()), Some(c));
        }
        assert_eq!(
            CheckId::acceptable_list(),
            "hop.schema-drift, hop.disk-space, hop.services and hop.stop-timeouts"
        );
    }

    /// docs/check-report.md lists every id and the acceptable ones as the
    /// enum does.
    #[test]
    fn the_check_report_doc_lists_the_ids_the_code_has() {
        let doc = include_str!("../../../docs/check-report.md");
        let flat = doc.split_whitespace().collect::<Vec<_>>().join(" ");
        let ids: Vec<String> = CheckId::ALL
            .iter()
            .map(|c| format!("`{}`", c.id()))
            .collect();
        let listed = format!("hop's own check ids: {}.", ids.join(", "));
        assert!(
            flat.contains(&listed),
            "docs/check-report.md should say:\n{listed}"
        );
        let accepted: Vec<String> = CheckId::ALL
            .iter()
            .filter(|c| c.may_accept())
            .map(|c| format!("`{}`", c.id()))
            .collect();
        let (last, rest) = accepted.split_last().unwrap();
        let sentence = format!("Of these, `--accept` takes {} and {last};", rest.join(", "));
        assert!(
            flat.contains(&sentence),
            "docs/check-report.md should say:\n{sentence}"
        );
    }
}
