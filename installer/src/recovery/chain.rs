//! The decisions of an upgrade chain (`upgrade --to`), as pure functions:
//! which hop runs next from the version the host runs, and how the chain
//! ends when it stops — a refusal while nothing changed yet, a stop at the
//! last good version, or a state that needs attention.

use hop_artifact::version::Version;

use crate::route::Hop;

/// What the chain does next, from the version the host runs.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// The host runs the target: the chain is done.
    Done,
    /// Run the hop at this index of the route.
    Run(usize),
    /// The chain cannot go on.
    Stop(Stop),
}

/// Why a chain stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Neither hop's record nor the RPM database says which version runs.
    UnknownVersion(String),
    /// The host runs a version no package of the chain starts at.
    NoPackageFrom(Version),
    /// The next hop's preflight refused it. (A hop that fails and rolls
    /// back ends the chain as its own failure does: at the last good
    /// version, exit 1.)
    HopRefused,
}

impl Stop {
    /// Why the chain to `target` stopped, for people.
    pub fn describe(&self, target: &Version) -> String {
        match self {
            Stop::UnknownVersion(why) => format!("cannot tell which version runs here: {why}"),
            Stop::NoPackageFrom(v) => format!(
                "the upgrade to {target} stopped: the host runs {v}, and no package of the chain starts there"
            ),
            Stop::HopRefused => {
                format!("the upgrade to {target} stopped: its next hop was refused")
            }
        }
    }
}

/// How a stopped chain ends for the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Nothing changed: exit 2, as any refusal.
    Refused,
    /// The host runs the last good version the chain reached: exit 1.
    AtGoodVersion,
    /// The host is where no command of the chain can explain: exit 3.
    NeedsAttention,
}

/// The next step of a chain to `target` over `hops` from `version`
/// (`Err`: the version could not be read, and why).
pub fn next(version: Result<&Version, String>, target: &Version, hops: &[Hop]) -> Next {
    let version = match version {
        Ok(v) => v,
        Err(why) => return Next::Stop(Stop::UnknownVersion(why)),
    };
    if version == target {
        return Next::Done;
    }
    match hops.iter().position(|h| &h.from == version) {
        Some(i) => Next::Run(i),
        None => Next::Stop(Stop::NoPackageFrom(version.clone())),
    }
}

/// How the chain ends when it stops for `why`, `changed` telling whether
/// a hop of it already committed.
pub fn end(why: &Stop, changed: bool) -> End {
    match (why, changed) {
        (_, false) => End::Refused,
        (Stop::HopRefused, true) => End::AtGoodVersion,
        (Stop::UnknownVersion(_) | Stop::NoPackageFrom(_), true) => End::NeedsAttention,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn hops() -> Vec<Hop> {
        [("4.0.1", "4.1.1"), ("4.1.1", "4.2.0"), ("4.2.0", "4.3.0")]
            .iter()
            .map(|(from, to)| Hop {
                path: PathBuf::from(format!("{from}-{to}.hop")),
                from: v(from),
                to: v(to),
                pins: false,
            })
            .collect()
    }

    #[test]
    fn the_next_hop_starts_where_the_host_is() {
        let target = v("4.3.0");
        let hops = hops();
        assert_eq!(next(Ok(&v("4.0.1")), &target, &hops), Next::Run(0));
        assert_eq!(next(Ok(&v("4.2.0")), &target, &hops), Next::Run(2));
        assert_eq!(next(Ok(&v("4.3.0")), &target, &hops), Next::Done);
        // Short of the target with no package from there: a route longer
        // than the packages, or a host someone moved by hand.
        assert_eq!(
            next(Ok(&v("4.1.5")), &target, &hops),
            Next::Stop(Stop::NoPackageFrom(v("4.1.5")))
        );
        assert_eq!(
            next(Err("no record".into()), &target, &hops),
            Next::Stop(Stop::UnknownVersion("no record".into()))
        );
    }

    #[test]
    fn a_stopped_chain_refuses_until_it_changed_something() {
        use End::*;
        let unknown = Stop::UnknownVersion(String::new());
        let nowhere = Stop::NoPackageFrom(v("4.1.5"));
        for (why, before, after) in [
            (&unknown, Refused, NeedsAttention),
            (&nowhere, Refused, NeedsAttention),
            (&Stop::HopRefused, Refused, AtGoodVersion),
        ] {
            assert_eq!(end(why, false), before, "{why:?} before any hop");
            assert_eq!(end(why, true), after, "{why:?} after a hop");
        }
    }
}
