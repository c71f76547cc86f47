//! What `status` tells the person who finds a host mid-operation: what
//! `resume` would do and why, what `rollback` would do, and the command
//! to run — decided from the journal by the same rules `resume` and
//! `rollback` follow, so what `status` says is what they then do.

use serde::Serialize;

use super::{Direction, resume_direction, rollback_needs_confirmation};
use crate::journal::{Journal, OpPhase};

/// The advice for an unfinished operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Advice {
    /// What `hop-install resume` would do, and why.
    pub resume: String,
    /// What `hop-install rollback` would do.
    pub rollback: String,
    /// The command to run (without `--root`).
    pub next: String,
}

/// The advice for the open operation `j`.
pub fn advice(j: &Journal) -> Advice {
    let during = j
        .last_touched()
        .map_or_else(String::new, |s| format!(" during \"{}\"", s.title()));
    let back = format!("back to {}", j.from);
    let resume = match resume_direction(j) {
        Direction::Back => format!(
            "resume rolls it {back}: it stopped{during} before its changes were complete, and \
             going back is the shorter way"
        ),
        Direction::Forward if j.committed() => format!(
            "resume finishes it to {}: it is committed (it stopped{during}), and users may \
             already write on {}",
            j.to, j.to
        ),
        Direction::Forward => format!(
            "resume finishes it to {}: every change is in place (it stopped{during}), so going \
             forward is the shorter way",
            j.to
        ),
        Direction::ContinueRollback if j.phase == OpPhase::RollbackFailed => format!(
            "the rollback {back} failed; resume and rollback both try it again{}",
            j.cause
                .as_ref()
                .map_or_else(String::new, |c| format!(" (it failed: {c})"))
        ),
        Direction::ContinueRollback => format!("resume continues the rollback {back}"),
        Direction::Nothing => "nothing: the operation is finished".into(),
    };
    let rollback = if rollback_needs_confirmation(j) {
        format!(
            "rollback --yes puts {} back and loses what users wrote since the commit (without \
             --yes it refuses)",
            j.from
        )
    } else {
        format!("rollback puts {} back", j.from)
    };
    let next = match (j.phase, resume_direction(j)) {
        (OpPhase::RollbackFailed, _) => "hop-install rollback".into(),
        (_, Direction::Nothing) => "nothing".into(),
        _ => "hop-install resume".into(),
    };
    Advice {
        resume,
        rollback,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Scope, Step, StepStatus};
    use crate::recovery::tests::scoped_journal_at;

    #[test]
    fn status_says_which_way_resume_goes_for_every_step() {
        for &step in Scope::Host.steps() {
            let j = scoped_journal_at(Scope::Host, step, StepStatus::Started);
            let a = advice(&j);
            let expected = match resume_direction(&j) {
                Direction::Back => "resume rolls it back to 4.0.1",
                Direction::Forward => "resume finishes it to 4.1.1",
                other => panic!("{step:?}: {other:?}"),
            };
            assert!(a.resume.starts_with(expected), "{step:?}: {}", a.resume);
            assert!(a.resume.contains(step.title()), "{step:?}: {}", a.resume);
            assert_eq!(a.next, "hop-install resume");
            assert_eq!(
                a.rollback.starts_with("rollback --yes"),
                j.committed(),
                "{step:?}: {}",
                a.rollback
            );
        }
        // Mid-RPM: back, and why.
        let j = scoped_journal_at(Scope::Host, Step::InstallRpms, StepStatus::Started);
        assert!(
            advice(&j)
                .resume
                .contains("before its changes were complete")
        );
    }

    #[test]
    fn a_failed_rollback_is_run_again() {
        let mut j = scoped_journal_at(Scope::Host, Step::HealthGate, StepStatus::Started);
        j.phase = OpPhase::RollbackFailed;
        j.cause = Some("rpm -U failed".into());
        let a = advice(&j);
        assert_eq!(a.next, "hop-install rollback");
        assert!(a.resume.contains("rpm -U failed"), "{}", a.resume);
    }
}
