//! Table tests of the recovery decisions of a rolling hop's parts
//! (expand, a node, contract, unpin): every step × {crash, failure,
//! interrupt}.

use super::tests::{facts, scoped_journal_at};
use super::*;

const PARTS: [Scope; 4] = [Scope::Expand, Scope::Node, Scope::Contract, Scope::Unpin];

#[test]
fn resume_after_a_crash_in_every_step_of_every_part() {
    use Direction::*;
    use Step::*;
    let expected: [(Scope, &[(Step, Direction)]); 4] = [
        (
            Scope::Expand,
            &[
                (Stage, Back),
                (Backup, Back),
                (OnlineMigrations, Back),
                (Cleanup, Forward),
            ],
        ),
        (
            Scope::Node,
            &[
                (Stage, Back),
                (Backup, Back),
                (StopServices, Back),
                (InstallRpms, Back),
                (DeployConfigs, Back),
                (StartServices, Forward),
                (HealthGate, Forward),
                (Commit, Forward),
                (Cleanup, Forward),
            ],
        ),
        (
            Scope::Contract,
            &[
                (Stage, Forward),
                (PostMigrations, Forward),
                (Cleanup, Forward),
            ],
        ),
        (
            Scope::Unpin,
            &[
                (Stage, Back),
                (Backup, Back),
                (StopServices, Back),
                (DeployConfigs, Back),
                (StartServices, Forward),
                (HealthGate, Forward),
                (Commit, Forward),
                (Cleanup, Forward),
            ],
        ),
    ];
    for (scope, table) in expected {
        let steps: Vec<Step> = table.iter().map(|(s, _)| *s).collect();
        assert_eq!(steps, scope.steps(), "{scope:?}");
        for (step, direction) in table {
            let crashed = scoped_journal_at(scope, *step, StepStatus::Started);
            assert_eq!(
                resume_direction(&crashed),
                *direction,
                "{scope:?}: crash during {step:?}"
            );
        }
    }
}

#[test]
fn failures_and_interrupts_in_every_step_of_every_part() {
    for scope in PARTS {
        for &step in scope.steps() {
            let failed = scoped_journal_at(scope, step, StepStatus::Started);
            let interrupted = scoped_journal_at(scope, step, StepStatus::Pending);
            let committed = match scope.commit_step() {
                None => true,
                Some(c) => step > c,
            };
            let expected = match (committed, step) {
                (false, _) => Reaction::RollBack,
                (true, Step::Cleanup) => Reaction::Warn,
                (true, _) => Reaction::StopForward,
            };
            for (j, what) in [(failed, "failure in"), (interrupted, "interrupt before")] {
                assert_eq!(
                    after_trouble(&j, step),
                    expected,
                    "{scope:?}: {what} {step:?}"
                );
            }
        }
    }
}

#[test]
fn rollback_plans_of_every_part() {
    use Undo::*;
    for &step in Scope::Expand.steps() {
        // Other nodes write while an expand runs: it never restores the
        // dump, whatever reached the database.
        let j = scoped_journal_at(Scope::Expand, step, StepStatus::Started);
        for f in [facts(true, true), facts(true, false), facts(false, false)] {
            assert_eq!(rollback_plan(&j, &f), [RemoveStaging], "expand {step:?}");
        }
    }
    let node = |step| {
        rollback_plan(
            &scoped_journal_at(Scope::Node, step, StepStatus::Started),
            &facts(true, false),
        )
    };
    assert_eq!(node(Step::Backup), [RemoveStaging]);
    assert_eq!(
        node(Step::StopServices),
        [StopServices, StartServices, CheckHealth, RemoveStaging]
    );
    assert_eq!(
        node(Step::HealthGate),
        [
            StopServices,
            RestoreConfigs,
            RestoreRpms,
            StartServices,
            CheckHealth,
            RemoveStaging
        ]
    );
    for &step in Scope::Node.steps() {
        assert!(!node(step).contains(&RestoreDatabase), "node {step:?}");
    }
    // Unpin puts the roll's configs back and restarts; no RPM, no database.
    let unpin = |step| {
        rollback_plan(
            &scoped_journal_at(Scope::Unpin, step, StepStatus::Started),
            &facts(true, false),
        )
    };
    assert_eq!(
        unpin(Step::HealthGate),
        [
            StopServices,
            RestoreConfigs,
            StartServices,
            CheckHealth,
            RemoveStaging
        ]
    );
}

#[test]
fn a_finished_part_needs_confirmation_to_roll_back() {
    let node = scoped_journal_at(Scope::Node, Step::Cleanup, StepStatus::Started);
    assert!(rollback_needs_confirmation(&node));
    let node = scoped_journal_at(Scope::Node, Step::HealthGate, StepStatus::Started);
    assert!(!rollback_needs_confirmation(&node));
    let contract = scoped_journal_at(Scope::Contract, Step::Stage, StepStatus::Started);
    assert!(rollback_needs_confirmation(&contract));
}
