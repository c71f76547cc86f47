//! What part of a hop an operation does: the whole hop on one host, or
//! one of the three parts of a rolling hop on a cluster (docs/cluster.md).

use serde::{Deserialize, Serialize};

use super::Step;

/// What part of a hop an operation does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `apply`: every step on one host.
    #[default]
    Host,
    /// `expand`: once per cluster, before any node changes — back up the
    /// database and apply the online migrations while every node serves.
    Expand,
    /// `apply --node`: this node only, the database untouched.
    Node,
    /// `contract`: once per cluster, after every node runs `to` — the post
    /// migrations.
    Contract,
    /// `unpin`: on each node after contract, for a hop that pins versions
    /// during the roll — the final configs deployed, the services restarted.
    Unpin,
}

impl Scope {
    /// The journaled steps of an operation of this scope, in order.
    pub fn steps(self) -> &'static [Step] {
        use Step::*;
        match self {
            Scope::Host => &Step::ALL,
            Scope::Expand => &[Stage, Backup, OnlineMigrations, Cleanup],
            Scope::Node => &[
                Stage,
                Backup,
                StopServices,
                InstallRpms,
                DeployConfigs,
                StartServices,
                HealthGate,
                Commit,
                Cleanup,
            ],
            Scope::Contract => &[Stage, PostMigrations, Cleanup],
            Scope::Unpin => &[
                Stage,
                Backup,
                StopServices,
                DeployConfigs,
                StartServices,
                HealthGate,
                Commit,
                Cleanup,
            ],
        }
    }

    /// The step whose completion commits the operation: from then on
    /// users may write on what it made, so nothing rolls it back without
    /// `rollback --yes`. `None`: committed from the start (a contract runs
    /// on a cluster that already runs `to`).
    pub fn commit_step(self) -> Option<Step> {
        match self {
            Scope::Host | Scope::Node | Scope::Unpin => Some(Step::Commit),
            Scope::Expand => Some(Step::OnlineMigrations),
            Scope::Contract => None,
        }
    }

    /// The step after which every change is in place, so that `resume`
    /// after a crash goes forward; before it, back. `None`: always forward.
    pub fn changes_complete_after(self) -> Option<Step> {
        match self {
            Scope::Host => Some(Step::OfflineMigrations),
            Scope::Node | Scope::Unpin => Some(Step::DeployConfigs),
            Scope::Expand => Some(Step::OnlineMigrations),
            Scope::Contract => None,
        }
    }

    /// Whether the operation changes the database (and so backs it up).
    pub fn changes_database(self) -> bool {
        !matches!(self, Scope::Node | Scope::Unpin)
    }

    /// Whether the operation changes this host's software (configs,
    /// services, hop's records; RPMs too unless it only unpins).
    pub fn changes_software(self) -> bool {
        matches!(self, Scope::Host | Scope::Node | Scope::Unpin)
    }

    /// Whether the operation installs RPMs (and so keeps the old ones).
    pub fn changes_rpms(self) -> bool {
        matches!(self, Scope::Host | Scope::Node)
    }

    /// A one-word name (logs, the lock's holder, JSON).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Host => "apply",
            Scope::Expand => "expand",
            Scope::Node => "node",
            Scope::Contract => "contract",
            Scope::Unpin => "unpin",
        }
    }

    /// What a finished operation did, for reports and history.
    pub fn outcome(self) -> &'static str {
        match self {
            Scope::Host | Scope::Node => "upgraded",
            Scope::Expand => "expanded",
            Scope::Contract => "contracted",
            Scope::Unpin => "unpinned",
        }
    }

    /// The verb that starts an operation of this scope.
    pub fn verb(self) -> &'static str {
        match self {
            Scope::Host => "apply",
            Scope::Expand => "expand",
            Scope::Node => "apply --node",
            Scope::Contract => "contract",
            Scope::Unpin => "unpin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_runs_its_steps_in_the_installers_order() {
        for scope in [
            Scope::Host,
            Scope::Expand,
            Scope::Node,
            Scope::Contract,
            Scope::Unpin,
        ] {
            let steps = scope.steps();
            assert!(steps.windows(2).all(|w| w[0] < w[1]), "{scope:?}");
            assert_eq!(steps.first(), Some(&Step::Stage));
            assert_eq!(steps.last(), Some(&Step::Cleanup));
            for pivot in [scope.commit_step(), scope.changes_complete_after()]
                .into_iter()
                .flatten()
            {
                assert!(steps.contains(&pivot), "{scope:?} {pivot:?}");
            }
        }
    }

    #[test]
    fn a_node_never_touches_the_database_and_the_database_phases_never_touch_a_node() {
        let db_steps = [
            Step::OnlineMigrations,
            Step::OfflineMigrations,
            Step::PostMigrations,
        ];
        let node_steps = [
            Step::StopServices,
            Step::InstallRpms,
            Step::DeployConfigs,
            Step::StartServices,
            Step::Commit,
        ];
        for scope in [Scope::Node, Scope::Unpin] {
            assert!(!scope.steps().iter().any(|s| db_steps.contains(s)));
        }
        assert!(!Scope::Unpin.steps().contains(&Step::InstallRpms));
        for scope in [Scope::Expand, Scope::Contract] {
            assert!(!scope.steps().iter().any(|s| node_steps.contains(s)));
        }
        // Expand, nodes and contract together do every step of a hop but
        // the offline migrations, which is why a rolling hop has none.
        let mut together: Vec<Step> = [Scope::Expand, Scope::Node, Scope::Contract]
            .iter()
            .flat_map(|s| s.steps().iter().copied())
            .collect();
        together.sort();
        together.dedup();
        let mut all = Step::ALL.to_vec();
        all.retain(|s| *s != Step::OfflineMigrations);
        assert_eq!(together, all);
    }
}
