//! Table tests of every recovery decision of a whole-host `apply`.

use std::path::Path;

use super::*;
use crate::journal::StepRecord;

pub(super) fn journal_at(step: Step, status: StepStatus) -> Journal {
    scoped_journal_at(Scope::Host, step, status)
}

/// A journal of `scope` with the steps before `step` done and `step` at
/// `status`.
pub(super) fn scoped_journal_at(scope: Scope, step: Step, status: StepStatus) -> Journal {
    let mut j = Journal::new(
        Path::new("/x"),
        "id",
        Path::new("p"),
        "manager",
        ("4.0.1", "4.1.1"),
        scope,
    );
    for r in &mut j.steps {
        r.status = match r.step.cmp(&step) {
            std::cmp::Ordering::Less => StepStatus::Done,
            std::cmp::Ordering::Equal => status,
            std::cmp::Ordering::Greater => StepStatus::Pending,
        };
    }
    j
}

/// Where `resume` goes after a crash in each step (started, not done),
/// as docs/recovery.md's table says.
#[test]
fn resume_after_a_crash_in_every_step() {
    use Direction::*;
    let expected = [
        (Step::Stage, Back),
        (Step::Backup, Back),
        (Step::OnlineMigrations, Back),
        (Step::StopServices, Back),
        (Step::InstallRpms, Back),
        (Step::DeployConfigs, Back),
        (Step::OfflineMigrations, Back),
        (Step::StartServices, Forward),
        (Step::HealthGate, Forward),
        (Step::Commit, Forward),
        (Step::PostMigrations, Forward),
        (Step::Cleanup, Forward),
    ];
    assert_eq!(expected.len(), Step::ALL.len());
    for (step, direction) in expected {
        assert_eq!(
            resume_direction(&journal_at(step, StepStatus::Started)),
            direction,
            "crash during {step:?}"
        );
    }
    // A crash after a step is done and before the next one started.
    assert_eq!(
        resume_direction(&journal_at(Step::OfflineMigrations, StepStatus::Done)),
        Forward
    );
    let mut rolling = journal_at(Step::InstallRpms, StepStatus::Started);
    rolling.phase = OpPhase::RollingBack;
    assert_eq!(resume_direction(&rolling), ContinueRollback);
    rolling.phase = OpPhase::RollbackFailed;
    assert_eq!(resume_direction(&rolling), ContinueRollback);
    rolling.phase = OpPhase::Done;
    assert_eq!(resume_direction(&rolling), Nothing);
}

/// A failure in each step, and an interrupt before each step: roll
/// back before commit, never after.
#[test]
fn failures_and_interrupts_in_every_step() {
    for (i, step) in Step::ALL.into_iter().enumerate() {
        let failed = journal_at(step, StepStatus::Started);
        let interrupted = journal_at(step, StepStatus::Pending);
        let committed = i > Step::ALL.iter().position(|s| *s == Step::Commit).unwrap();
        let expected = match (committed, step) {
            (false, _) => Reaction::RollBack,
            (true, Step::Cleanup) => Reaction::Warn,
            (true, _) => Reaction::StopForward,
        };
        assert_eq!(
            after_trouble(&failed, step),
            expected,
            "failure in {step:?}"
        );
        assert_eq!(
            after_trouble(&interrupted, step),
            expected,
            "interrupt before {step:?}"
        );
    }
}

pub(super) fn facts(backup_complete: bool, database_touched: bool) -> HostFacts {
    HostFacts {
        backup_complete,
        database_touched,
    }
}

/// The rollback plan after a failure in each step.
#[test]
fn rollback_plans_after_a_failure_in_every_step() {
    use Undo::*;
    let all_back = vec![
        StopServices,
        RestoreConfigs,
        RestoreRpms,
        RestoreDatabase,
        StartServices,
        CheckHealth,
        RemoveStaging,
    ];
    // Only the database changed: the services stop for its restore.
    let database_back = vec![
        StopServices,
        RestoreDatabase,
        StartServices,
        CheckHealth,
        RemoveStaging,
    ];
    let cases: [(Step, HostFacts, Vec<Undo>); 9] = [
        (Step::Stage, facts(false, false), vec![RemoveStaging]),
        (Step::Backup, facts(false, false), vec![RemoveStaging]),
        // The first online migration failed inside its transaction: no
        // downtime at all.
        (
            Step::OnlineMigrations,
            facts(true, false),
            vec![RemoveStaging],
        ),
        (
            Step::OnlineMigrations,
            facts(true, true),
            database_back.clone(),
        ),
        (Step::StopServices, facts(true, true), database_back.clone()),
        (
            Step::InstallRpms,
            facts(true, true),
            vec![
                StopServices,
                RestoreRpms,
                RestoreDatabase,
                StartServices,
                CheckHealth,
                RemoveStaging,
            ],
        ),
        (Step::DeployConfigs, facts(true, true), all_back.clone()),
        (Step::HealthGate, facts(true, true), all_back.clone()),
        (
            Step::Commit,
            facts(true, true),
            // Everything, the records of the commit included.
            Undo::ALL.to_vec(),
        ),
    ];
    for (step, f, plan) in cases {
        assert_eq!(
            rollback_plan(&journal_at(step, StepStatus::Started), &f),
            plan,
            "failure in {step:?} with {f:?}"
        );
    }
    // Every plan ends by removing staging, and starts services only
    // after stopping them.
    for step in Step::ALL {
        for f in [facts(true, true), facts(true, false)] {
            let plan = rollback_plan(&journal_at(step, StepStatus::Started), &f);
            assert_eq!(plan.last(), Some(&RemoveStaging));
            if let Some(start) = plan.iter().position(|u| *u == StartServices) {
                assert_eq!(plan[0], StopServices);
                assert_eq!(plan.get(start + 1), Some(&CheckHealth));
            }
        }
    }
}

#[test]
fn rolling_back_a_committed_hop_asks_for_confirmation() {
    let before = journal_at(Step::HealthGate, StepStatus::Started);
    assert!(!rollback_needs_confirmation(&before));
    let after = journal_at(Step::PostMigrations, StepStatus::Started);
    assert!(rollback_needs_confirmation(&after));
    let mut done = journal_at(Step::Cleanup, StepStatus::Done);
    done.phase = OpPhase::Done;
    assert!(rollback_needs_confirmation(&done));
    let mut rolling = after.clone();
    rolling.phase = OpPhase::RollingBack;
    assert!(!rollback_needs_confirmation(&rolling));
    // The journal's step records are the only input.
    let _: &Vec<StepRecord> = &after.steps;
}
