//! `hop-install path --to VERSION PKG_OR_DIR...`: the route from the
//! installed version to VERSION through the given packages, or which hop is
//! missing. Reads only the packages' signed heads; changes nothing.

use std::path::{Path, PathBuf};

use hop_artifact::version::Version;
use serde::Serialize;

use crate::error::Refusal;
use crate::preflight;
use crate::remote::{FetchOptions, shown};
use crate::route::{self, Hop, Ignored};
use crate::session::Session;

#[derive(Clone, Serialize)]
pub struct RouteStep {
    pub from: String,
    pub to: String,
    pub package: PathBuf,
    /// Whether the hop pins versions during a roll (configs with a
    /// `during_roll` file): the playbook then unpins after contract.
    pub pins: bool,
}

/// What `path` found.
#[derive(Serialize)]
pub struct PathReport {
    pub installed: String,
    pub target: String,
    pub route: Vec<RouteStep>,
    pub ignored: Vec<Ignored>,
    /// The whole graph in DOT, the route highlighted.
    pub dot: String,
}

/// Reads the packages and the host's version.
pub fn gather(
    session: &Session,
    inputs: &[PathBuf],
    options: &FetchOptions,
) -> Result<(Version, Vec<Hop>, Vec<Ignored>), Refusal> {
    let host = &session.host;
    let runner = session.runner("path");
    let installed = preflight::installed(host, &runner)
        .map_err(|e| Refusal::from_error(&e))?
        .version
        .ok_or_else(|| {
            Refusal::new(format!(
                "cannot tell which version runs on {}",
                host.root.display()
            ))
        })?;
    let trusted = crate::trust::host_keys(host)?;
    let (hops, ignored) = crate::remote::collect(inputs, &trusted, &host.config.product, options)
        .map_err(crate::remote::FetchError::refusal)?;
    Ok((installed, hops, ignored))
}

pub fn path(
    root: &Path,
    target: &str,
    inputs: &[PathBuf],
    options: &FetchOptions,
) -> Result<PathReport, Refusal> {
    let target = Version::parse(target).map_err(|e| Refusal::new(e.to_string()))?;
    let session = Session::reading(root)?;
    let (installed, hops, ignored) = gather(&session, inputs, options)?;
    let route = route::find(&hops, &installed, &target)
        .map_err(|why| refusal(&installed, &target, &why, &ignored))?;
    Ok(PathReport {
        installed: installed.to_string(),
        target: target.to_string(),
        route: route
            .iter()
            .map(|h| RouteStep {
                from: h.from.to_string(),
                to: h.to.to_string(),
                package: h.path.clone(),
                pins: h.pins,
            })
            .collect(),
        dot: route::dot(&hops, &route, &installed, &target),
        ignored,
    })
}

/// The refusal when there is no route: a missing hop, or a target older
/// than the host (hop goes forward only; a missing package is not why).
pub fn refusal(installed: &Version, target: &Version, why: &str, ignored: &[Ignored]) -> Refusal {
    if target < installed {
        return Refusal::new(format!(
            "no route from {installed} to {target}: {target} is older than the version this \
             host runs, and hop only upgrades"
        ))
        .with_hint(
            "to undo the last hop, run `hop-install rollback` (`hop-install history` lists \
             what ran)",
        );
    }
    let mut message = format!("no route from {installed} to {target}: {why}");
    for i in ignored {
        message += &format!("\n  ignored {}: {}", shown(&i.path), i.reason);
    }
    Refusal::new(message)
        .with_hint("get the missing package from the vendor and add it to the packages given")
}

pub fn render(r: &PathReport) -> String {
    if r.route.is_empty() {
        return format!("this host already runs {}\n", r.target);
    }
    let mut out = format!(
        "{} hop(s) from {} to {}:\n",
        r.route.len(),
        r.installed,
        r.target
    );
    for (i, s) in r.route.iter().enumerate() {
        out += &format!(
            "  {}. {} → {}  {}\n",
            i + 1,
            s.from,
            s.to,
            shown(&s.package)
        );
    }
    for i in &r.ignored {
        out += &format!("ignored {}: {}\n", shown(&i.path), i.reason);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn an_older_target_is_refused_as_a_downgrade_not_a_missing_package() {
        let r = refusal(
            &v("4.0.1"),
            &v("3.0.0"),
            "no package upgrades to 3.0.0",
            &[],
        );
        assert!(
            r.message
                .contains("3.0.0 is older than the version this host runs"),
            "{}",
            r.message
        );
        assert!(
            r.hint
                .as_deref()
                .is_some_and(|h| h.contains("hop-install rollback"))
        );
        let r = refusal(
            &v("4.0.1"),
            &v("4.2.5"),
            "no package upgrades to 4.2.5",
            &[],
        );
        assert!(
            r.message.ends_with("no package upgrades to 4.2.5"),
            "{}",
            r.message
        );
        assert!(
            r.hint
                .as_deref()
                .is_some_and(|h| h.contains("from the vendor"))
        );
    }

    #[test]
    fn a_route_shows_no_password_or_signature_of_its_urls() {
        let secret = "https://ops:hunter2@repo.example/hops/manager-4.0.1-to-4.1.1.hop?X-Amz-Signature=abc123&X-Amz-Credential=AKIA";
        let report = PathReport {
            installed: "4.0.1".into(),
            target: "4.1.1".into(),
            route: vec![RouteStep {
                from: "4.0.1".into(),
                to: "4.1.1".into(),
                package: PathBuf::from(secret),
                pins: false,
            }],
            ignored: vec![Ignored {
                path: PathBuf::from("s3://bucket/x.hop?X-Amz-Signature=zzz"),
                reason: "a package for other".into(),
            }],
            dot: String::new(),
        };
        let text = render(&report);
        for leak in ["hunter2", "ops:", "abc123", "AKIA", "zzz"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert!(
            text.contains("https://repo.example/hops/manager-4.0.1-to-4.1.1.hop"),
            "{text}"
        );
        assert_eq!(
            crate::remote::shown(Path::new("/var/lib/hop/packages/a.hop")),
            "/var/lib/hop/packages/a.hop"
        );
    }
}
