//! A rollback's record in the journal: its plan, how far it got, and
//! the outage it caused or ended.

use serde::{Deserialize, Serialize};

use super::{Undo, span};

/// A rollback's plan and how far it got: `resume` after a crash during a
/// rollback continues with the first undo not done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRecord {
    pub plan: Vec<Undo>,
    /// How many undos of the plan are done.
    pub done: usize,
    /// Why the database is not restored although migrations ran (the
    /// offline phase rolled back in its own transaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_restore: Option<String>,
    /// Since when (ms since the epoch) the services have been down: the
    /// failed apply's first stop when they were still down, else the
    /// rollback's own stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_since_ms: Option<u64>,
    /// When the rollback's health check passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_at_ms: Option<u64>,
}

impl RollbackRecord {
    /// The undos still to do.
    pub fn remaining(&self) -> &[Undo] {
        self.plan.get(self.done..).unwrap_or(&[])
    }

    /// Whether starting `undo` starts the rollback's outage: stopping
    /// services that are up.
    pub fn starts_outage(&self, undo: Undo) -> bool {
        undo == Undo::StopServices && self.down_since_ms.is_none()
    }

    /// How long the services were down for this rollback, from the stop
    /// that took them down to the rollback's passed health check
    /// (`None` when it stopped nothing or has not ended).
    pub fn outage_ms(&self) -> Option<u64> {
        span(self.down_since_ms, self.healthy_at_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(down_since_ms: Option<u64>) -> RollbackRecord {
        RollbackRecord {
            plan: vec![Undo::StopServices, Undo::StartServices, Undo::CheckHealth],
            done: 0,
            no_restore: None,
            down_since_ms,
            healthy_at_ms: None,
        }
    }

    #[test]
    fn stopping_running_services_starts_the_outage_and_health_ends_it() {
        let mut r = record(None);
        assert!(r.starts_outage(Undo::StopServices));
        assert!(!r.starts_outage(Undo::StartServices));
        r.down_since_ms = Some(10_000);
        assert_eq!(r.outage_ms(), None, "not healthy yet: no outage to tell");
        r.healthy_at_ms = Some(12_500);
        assert_eq!(r.outage_ms(), Some(2_500));
    }

    #[test]
    fn services_still_down_from_the_apply_count_from_its_stop() {
        let r = record(Some(1_000));
        assert!(
            !r.starts_outage(Undo::StopServices),
            "already down since 1000"
        );
        let r = RollbackRecord {
            healthy_at_ms: Some(9_000),
            ..r
        };
        assert_eq!(r.outage_ms(), Some(8_000));
    }
}
