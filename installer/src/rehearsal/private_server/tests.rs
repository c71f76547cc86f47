use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::LiveServer;
use super::dir::unusable_parent;
use super::live::{is_plain_path, mem_available, version_major};

fn server(settings: &[(&str, &str)]) -> LiveServer {
    LiveServer {
        major: 15,
        encoding: "UTF8".into(),
        collate: "C.UTF-8".into(),
        ctype: "C.UTF-8".into(),
        settings: settings
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        data_directory: None,
    }
}

#[test]
fn the_initdb_version_names_its_major() {
    assert_eq!(
        version_major("initdb (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)\n"),
        Some(15)
    );
    assert_eq!(version_major("initdb (PostgreSQL) 17beta2"), Some(17));
    assert_eq!(version_major("initdb (PostgreSQL) 9.6.24"), Some(9));
    assert_eq!(version_major("garbage"), None);
}

#[test]
fn the_cluster_copies_settings_caps_memory_and_listens_only_on_its_socket() {
    let s = server(&[
        ("shared_buffers", "524288"), // 4 GiB in 8 kB pages
        ("work_mem", "65536"),
        ("synchronous_commit", "off"),
        ("search_path", "a, b"), // not plain: never reaches a shell
    ]);
    let opts = s.options(Path::new("/var/tmp/hop-rehearsal-7"), Some(4 << 30));
    // A quarter of 4 GiB available: 1 GiB = 131072 pages.
    assert!(
        opts.contains(&"-c shared_buffers=131072".to_string()),
        "{opts:?}"
    );
    assert!(opts.contains(&"-c work_mem=65536".to_string()));
    assert!(opts.contains(&"-c synchronous_commit=off".to_string()));
    assert!(!opts.iter().any(|o| o.contains("search_path")));
    assert!(opts.contains(&"-c listen_addresses=''".to_string()));
    assert!(opts.contains(&"-c unix_socket_directories=/var/tmp/hop-rehearsal-7".to_string()));
    // Without a reading of memory, the live value stands.
    let opts = s.options(Path::new("/x"), None);
    assert!(opts.contains(&"-c shared_buffers=524288".to_string()));
}

#[test]
fn available_memory_is_read_from_meminfo() {
    let text = "MemTotal:       16384000 kB\nMemFree:  100 kB\nMemAvailable:    8192000 kB\n";
    assert_eq!(mem_available(text), Some(8_192_000 * 1024));
    assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
}

#[test]
fn a_socket_path_must_be_short_and_plain() {
    assert!(is_plain_path(Path::new("/var/tmp/hop-rehearsal-42")));
    assert!(!is_plain_path(Path::new(
        "/var/tmp/with space/hop-rehearsal-42"
    )));
    assert!(!is_plain_path(Path::new("/var/tmp/$(reboot)")));
    assert!(!is_plain_path(Path::new("relative/hop-rehearsal-1")));
    assert!(!is_plain_path(&Path::new("/").join("x".repeat(100))));
}

#[test]
fn a_parent_others_may_change_is_refused_unless_sticky() {
    let Some(user) = nix::unistd::User::from_name("nobody").ok().flatten() else {
        panic!("these tests need the user nobody");
    };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let open = tmp.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let why = unusable_parent(&open, &user).unwrap();
    assert!(
        why.contains("can be changed by users other than root"),
        "{why}"
    );
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(unusable_parent(&open, &user), None);
    // A parent the cluster's user cannot enter.
    let closed = tmp.path().join("closed");
    std::fs::create_dir(&closed).unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
    let why = unusable_parent(&closed, &user).unwrap();
    assert!(
        why.contains("the user nobody") && why.contains("cannot enter"),
        "{why}"
    );
    let missing = unusable_parent(&tmp.path().join("missing"), &user).unwrap();
    assert!(missing.contains("missing"), "{missing}");
}
