//! The rehearsal's report for people.

use super::{Rehearsal, secs};

impl Rehearsal {
    /// The report for people.
    pub fn render(&self) -> String {
        let p = &self.prediction;
        let mut out = format!(
            "rehearsal of {} on a copy of the {} database ({}) in {}\n\n",
            self.package,
            self.backend,
            crate::progress::bytes_text(self.database_bytes),
            self.copy_in
        );
        out += &format!(
            "predicted downtime window: {} (offline migrations + {} for stopping, installing, \
             starting and the health gate: {})\n",
            secs(p.window_ms),
            secs(self.service_steps.ms),
            self.service_steps.source
        );
        out += &format!(
            "predicted rollback:        {} after a failure once the offline phase committed (the \
             health gate): restore of the dump {} + the service steps\n",
            secs(p.rollback_ms),
            secs(self.restore_ms)
        );
        out += &if p.offline_failure_rollback_ms < p.rollback_ms {
            format!(
                "                           {} after a failure in the offline phase: it rolls \
                 back in its own transaction, no restore\n",
                secs(p.offline_failure_rollback_ms)
            )
        } else {
            format!(
                "                           {} after a failure in the offline phase too: \
                 something of the hop commits before it (online migrations, or a phase of one \
                 transaction per migration)\n",
                secs(p.offline_failure_rollback_ms)
            )
        };
        out += &format!(
            "before the window:         {} (backup {} + online migrations; services running)\n",
            secs(p.before_window_ms),
            secs(self.dump_ms)
        );
        out += &format!(
            "after commit:              {} (post migrations; services running)\n\n",
            secs(p.after_commit_ms)
        );
        out += &format!(
            "{:<44} {:<8} {:>9} {:>10} {:>10} {:>11}\n",
            "MIGRATION", "PHASE", "TIME", "ROWS", "LOCK WAIT", "GROWTH"
        );
        for m in &self.migrations {
            out += &format!(
                "{:<44} {:<8} {:>9} {:>10} {:>10} {:>11}\n",
                m.file,
                m.phase.to_string(),
                secs(m.duration_ms),
                m.rows,
                m.lock_wait_ms.map_or("-".into(), secs),
                growth(m.growth_bytes)
            );
        }
        if !p.slowest.is_empty() {
            out += &format!("\nslowest: {}\n", p.slowest.join(", "));
        }
        out
    }
}

fn growth(bytes: i64) -> String {
    let text = crate::progress::bytes_text(bytes.unsigned_abs());
    if bytes < 0 {
        format!("-{text}")
    } else {
        format!("+{text}")
    }
}
