//! The order services start in: waves, from their `after:` lists.

use std::collections::HashMap;

use super::Service;

/// `services` in start waves: a service starts in the wave after the
/// last of those it names in `after` (names not listed before it are
/// ignored: the builder refuses them).
pub fn start_waves(services: &[Service]) -> Vec<Vec<&Service>> {
    let mut level: HashMap<&str, usize> = HashMap::new();
    let mut waves: Vec<Vec<&Service>> = Vec::new();
    for s in services {
        let l = s
            .after
            .iter()
            .filter_map(|a| level.get(a.as_str()))
            .map(|l| l + 1)
            .max()
            .unwrap_or(0);
        level.insert(&s.name, l);
        if waves.len() <= l {
            waves.resize_with(l + 1, Vec::new);
        }
        waves[l].push(s);
    }
    waves
}
