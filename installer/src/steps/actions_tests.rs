//! Each step's plan as a function of the host's facts: what `--dry-run`
//! shows and the step then runs (`tests/plan.rs` compares the two on real
//! hosts; these pin each decision down).

use std::collections::BTreeMap;

use hop_artifact::PackageManifest;
use hop_artifact::digest::Sha256Digest;

use crate::action::Action;
use crate::journal::Scope;

/// A hop 1.0.0 → 1.1.0 of two components and two services (the second
/// drains), one config that keeps local edits, and both hooks.
fn manifest() -> PackageManifest {
    let text = format!(
        r#"
format: 1
product: manager
from: 1.0.0
to: 1.1.0
builder: test
source_date_epoch: 0
components:
  - {{name: common, version: 1.1.0, release: "1", arch: noarch, file: rpms/common.rpm}}
  - {{name: api, version: 1.1.0, release: "1", arch: noarch, file: rpms/api.rpm}}
configs:
  - {{file: configs/api.yaml, dest: /etc/manager/api.yaml, mode: "0640", preserve_local_edits: true, from_sha256: {old}}}
services:
  - name: api
    stop_timeout: 30s
    health: {{http: "http://127.0.0.1:1/readyz", timeout: 60s, settle: 2s}}
  - name: worker
    stop_timeout: 10s
    drain: {{signal: SIGUSR2, timeout: 20s}}
    health: {{tcp: "127.0.0.1:2", timeout: 5s, settle: 1s}}
scripts: {{pre_install: scripts/pre.sh, post_install: scripts/post.sh}}
members:
  - {{path: configs/api.yaml, size: 3, sha256: {new}}}
"#,
        old = Sha256Digest::of(b"old").to_hex(),
        new = Sha256Digest::of(b"new").to_hex(),
    );
    hop_artifact::yaml::from_str(&text).unwrap()
}

fn installed(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(name, nevra)| {
            let now = match *nevra {
                "" => Vec::new(),
                nevra => vec![nevra.to_owned()],
            };
            (name.to_string(), now)
        })
        .collect()
}

#[test]
fn rpms_run_the_hook_erase_what_is_dropped_then_install_only_what_changes() {
    let m = manifest();
    let on_host = installed(&[
        ("common", "common-1.1.0-1.noarch"),
        ("api", "api-1.0.0-1.noarch"),
    ]);
    let recorded = [
        "common-1.0.0-1.noarch".to_owned(),
        "api-1.0.0-1.noarch".to_owned(),
        "cli-1.0.0-1.noarch".to_owned(),
    ];
    assert_eq!(
        super::rpms::actions(&m, &on_host, &recorded),
        [
            Action::RunHook {
                hook: "pre_install".into()
            },
            Action::EraseRpm {
                nevra: "cli-1.0.0-1.noarch".into()
            },
            // common is already at 1.1.0 (a resumed hop): no install.
            Action::InstallRpm {
                installed: Some("api-1.0.0-1.noarch".into()),
                to: "api-1.1.0-1.noarch".into()
            },
        ]
    );
    // A component the host never had is installed from nothing, and
    // nothing is erased when hop has no record.
    let fresh = installed(&[("common", "common-1.0.0-1.noarch"), ("api", "")]);
    let plan = super::rpms::actions(&m, &fresh, &[]);
    assert!(plan.contains(&Action::InstallRpm {
        installed: None,
        to: "api-1.1.0-1.noarch".into()
    }));
    assert!(!plan.iter().any(|a| matches!(a, Action::EraseRpm { .. })));
}

#[test]
fn services_stop_the_running_version_last_first_and_start_the_new_one_in_order() {
    let m = manifest();
    // The running version had only `worker` and a `legacy` service.
    let mut before = m.services.clone();
    before.retain(|s| s.name == "worker");
    let mut legacy = m.services[0].clone();
    legacy.name = "legacy".into();
    before.push(legacy);

    let stops: Vec<Action> = super::services::stops(&before)
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        stops,
        [
            Action::Stop {
                service: "legacy".into(),
                drain: None,
                within: "30s".into()
            },
            Action::Stop {
                service: "worker".into(),
                drain: Some("SIGUSR2 ≤20s".into()),
                within: "10s".into()
            },
        ]
    );
    let starts: Vec<Action> = super::services::starts(&m.services)
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        starts,
        [
            Action::Start {
                service: "api".into()
            },
            Action::Start {
                service: "worker".into()
            }
        ]
    );
    assert_eq!(
        super::health::actions(&m.services)[1],
        Action::WaitHealthy {
            service: "worker".into(),
            within: "5s".into(),
            settle: "1s".into()
        }
    );
}

#[test]
fn the_backup_keeps_what_the_operations_scope_changes() {
    let m = manifest();
    let everything = [
        Action::DumpDatabase {
            database: "postgresql".into(),
        },
        Action::ArchiveConfigs { count: 1 },
        Action::KeepRpms,
    ];
    assert_eq!(
        super::backup::actions(&m, Scope::Host, "postgresql"),
        everything
    );
    // A node of a cluster leaves the database to expand/contract.
    assert_eq!(super::backup::actions(&m, Scope::Node, ""), everything[1..]);
    assert_eq!(
        super::backup::actions(&m, Scope::Expand, "postgresql"),
        everything[..1]
    );
    assert_eq!(
        super::backup::actions(&m, Scope::Unpin, ""),
        [Action::ArchiveConfigs { count: 1 }]
    );
}

#[test]
fn configs_keep_a_users_edit_replace_a_pristine_file_and_then_run_the_hook() {
    let m = manifest();
    let plan = |current: Option<&[u8]>| {
        super::configs::actions(&m, Scope::Host, |_| current.map(Sha256Digest::of), None).unwrap()
    };
    let hook = Action::RunHook {
        hook: "post_install".into(),
    };
    let deploy = |how: &str| Action::DeployConfig {
        dest: "/etc/manager/api.yaml".into(),
        how: how.into(),
    };
    assert_eq!(plan(None), [deploy("installed"), hook.clone()]);
    assert_eq!(plan(Some(b"old")), [deploy("replaced"), hook.clone()]);
    assert_eq!(plan(Some(b"new")), [deploy("unchanged"), hook.clone()]);
    assert_eq!(
        plan(Some(b"edited")),
        [
            deploy("keep local edits, new version to /etc/manager/api.yaml.hopnew"),
            hook
        ]
    );
}

#[test]
fn staging_extracts_every_member_and_the_commit_records_the_new_version() {
    let m = manifest();
    assert_eq!(
        super::stage::actions(&m),
        [Action::Extract {
            members: 1,
            bytes: 3
        }]
    );
    assert_eq!(
        super::commit::actions(&m),
        [Action::Record {
            version: "1.1.0".into()
        }]
    );
}

#[test]
fn services_start_in_waves_of_what_they_wait_for_and_stop_in_reverse() {
    let m = manifest();
    let service = |name: &str, after: &[&str]| {
        let mut s = m.services[0].clone();
        s.name = name.into();
        s.after = after.iter().map(|a| a.to_string()).collect();
        s
    };
    let services = [
        service("db-proxy", &[]),
        service("cache", &[]),
        service("api", &["db-proxy"]),
        service("worker", &["api", "cache"]),
        service("metrics", &[]),
        // A name not listed before it is ignored (the builder refuses it).
        service("ui", &["nowhere"]),
    ];
    let names = |waves: Vec<Vec<&hop_artifact::package_manifest::Service>>| -> Vec<Vec<String>> {
        waves
            .into_iter()
            .map(|w| w.into_iter().map(|s| s.name.clone()).collect())
            .collect()
    };
    assert_eq!(
        names(hop_artifact::package_manifest::start_waves(&services)),
        [
            vec!["db-proxy", "cache", "metrics", "ui"],
            vec!["api"],
            vec!["worker"]
        ]
    );
    let order = |pairs: Vec<(&hop_artifact::package_manifest::Service, Action)>| -> Vec<String> {
        pairs.into_iter().map(|(s, _)| s.name.clone()).collect()
    };
    assert_eq!(
        order(super::services::starts(&services)),
        ["db-proxy", "cache", "metrics", "ui", "api", "worker"]
    );
    assert_eq!(
        order(super::services::stops(&services)),
        ["worker", "api", "ui", "metrics", "cache", "db-proxy"]
    );
}
