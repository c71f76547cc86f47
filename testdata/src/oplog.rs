//! Reading hop-install's operation log as support staff would: how long
//! each part of a rollback took, from its timestamped lines.

use anyhow::Result;

/// `(part, seconds)` of the rollback in `log`: the time before the first
/// undo as `planning`, then each `== undo NAME` until the next mark.
pub fn rollback_parts(log: &str) -> Result<Vec<(String, f64)>> {
    let mut marks = Vec::new();
    for line in log.lines() {
        let Some((stamp, text)) = line.split_once(' ') else {
            continue;
        };
        let name = if text.starts_with("== rollback:") {
            "planning".to_owned()
        } else if let Some(undo) = text.strip_prefix("== undo ") {
            undo.to_owned()
        } else if text == "== rollback done" {
            "done".to_owned()
        } else {
            continue;
        };
        marks.push((name, humantime::parse_rfc3339(stamp)?));
    }
    Ok(marks
        .windows(2)
        .map(|w| {
            let secs = w[1].1.duration_since(w[0].1).unwrap_or_default();
            (w[0].0.clone(), secs.as_secs_f64())
        })
        .collect())
}

/// The seconds of `parts` not spent stopping, starting or gating the
/// services: what a rollback costs beyond the restart.
pub fn beyond_services(parts: &[(String, f64)]) -> f64 {
    const SERVICES: [&str; 3] = ["stop_services", "start_services", "check_health"];
    parts
        .iter()
        .filter(|(name, _)| !SERVICES.contains(&name.as_str()))
        .map(|(_, s)| s)
        .sum()
}
