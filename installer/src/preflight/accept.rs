//! Accepting a WARNING or FAILURE an operator knows does not apply to
//! this host (`--accept ID --reason
//! TEXT`), as foreman-maintain's whitelist and Leapp's answer file do.
//! Only checks whose failure hop can live through may be accepted: never
//! the signature, the versions, the database's history, or anything a
//! rollback depends on.

use super::{CheckId, Level, Preflight};
use crate::error::Refusal;
pub use crate::journal::Accepted;

/// What the operator asked to accept.
#[derive(Clone, Debug, Default)]
pub struct Accept {
    /// Check ids (`hop.disk-space`).
    pub ids: Vec<String>,
    /// Why: required with any id.
    pub reason: Option<String>,
}

/// Who runs hop.
fn who() -> String {
    ["SUDO_USER", "USER"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| format!("uid {}", nix::unistd::getuid()))
}

impl Accept {
    /// Refuses an id that is not hop's, one that may not be accepted, or
    /// an acceptance without a reason.
    pub fn validate(&self) -> Result<(), Refusal> {
        if self.ids.is_empty() {
            return Ok(());
        }
        if self.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(Refusal::new(
                "--accept needs --reason TEXT: the reason goes on record",
            ));
        }
        // The vendor's checks are known once the package is read (see
        // `Preflight::accept`); hop's own are known here.
        for id in self.ids.iter().filter(|i| i.starts_with("hop.")) {
            match CheckId::from_id(id) {
                None => {
                    return Err(Refusal::new(format!(
                        "{id} is not a check id; `hop-install check PKG` lists them (ID column)"
                    )));
                }
                Some(c) if !c.may_accept() => {
                    return Err(Refusal::new(format!(
                        "{id} cannot be accepted: what it checks is what keeps the upgrade safe; \
                         only {} can be",
                        CheckId::acceptable_list()
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

impl Preflight {
    /// Marks the accepted WARNINGs and FAILUREs; what was accepted.
    pub fn accept(&mut self, accept: &Accept) -> Result<Vec<Accepted>, Refusal> {
        accept.validate()?;
        for id in accept.ids.iter().filter(|i| !i.starts_with("hop.")) {
            match self.checks.iter().find(|c| c.id == *id) {
                None => {
                    return Err(Refusal::new(format!(
                        "{id} is not a check id of hop or of this package; `hop-install check PKG` lists them (ID column)"
                    )));
                }
                Some(c) if !c.waivable => {
                    return Err(Refusal::new(format!(
                        "{id} cannot be accepted: its vendor marked it not waivable"
                    )));
                }
                Some(_) => {}
            }
        }
        let reason = accept.reason.clone().unwrap_or_default();
        let by = who();
        let mut accepted = Vec::new();
        for c in &mut self.checks {
            if c.result != Level::Ok && accept.ids.contains(&c.id) {
                c.accepted = Some(reason.clone());
                accepted.push(Accepted {
                    id: c.id.clone(),
                    result: c.result.as_str().to_owned(),
                    details: c.details.clone(),
                    reason: reason.clone(),
                    by: by.clone(),
                });
            }
        }
        Ok(accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_checks_may_be_accepted_and_only_with_a_reason() {
        let accept = |ids: &[&str], reason: Option<&str>| Accept {
            ids: ids.iter().map(|s| s.to_string()).collect(),
            reason: reason.map(str::to_owned),
        };
        assert!(
            accept(&["hop.disk-space"], Some("the dump goes to another disk"))
                .validate()
                .is_ok()
        );
        assert!(accept(&["hop.disk-space"], None).validate().is_err());
        assert!(accept(&["hop.disk-space"], Some("  ")).validate().is_err());
        for never in [
            "hop.signature",
            "hop.installed-version",
            "hop.schema-history",
            "hop.nope",
        ] {
            assert!(
                accept(&[never], Some("because")).validate().is_err(),
                "{never}"
            );
        }
        assert!(accept(&[], None).validate().is_ok());
    }

    #[test]
    fn an_accepted_failure_no_longer_refuses() {
        let mut p = Preflight::default();
        p.add(CheckId::DiskSpace, Level::Failure, "1 MiB free");
        p.add(CheckId::SchemaDrift, Level::Warning, "an extra index");
        assert_eq!(p.worst(), Level::Failure);
        let accepted = p
            .accept(&Accept {
                ids: vec!["hop.disk-space".into()],
                reason: Some("the dump goes elsewhere".into()),
            })
            .unwrap();
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].result, "FAILURE");
        assert!(p.failures().is_empty());
        assert_eq!(p.worst(), Level::Warning);
        assert!(p.render().contains("hop.disk-space"));
        assert!(p.render().contains("ACCEPTED"));
    }
}
