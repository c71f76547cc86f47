//! HostFs refuses what leaves the root and writes what it must.

use super::*;

fn host() -> (tempfile::TempDir, HostFs) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc/manager")).unwrap();
    let fs = HostFs::open(dir.path()).unwrap();
    (dir, fs)
}

#[test]
fn writes_never_leave_the_root() {
    let (dir, fs) = host();
    let outside = tempfile::tempdir().unwrap();
    // etc/conf -> the real outside directory, absolute: inside the
    // root that path does not exist, so the write fails.
    std::os::unix::fs::symlink(outside.path(), dir.path().join("etc/conf")).unwrap();
    assert!(fs.write("/etc/conf/x.yaml", b"data", 0o640, None).is_err());
    assert!(
        !outside.path().join("x.yaml").exists(),
        "hop wrote outside the root"
    );
    // Resolved as the host sees it: the same path inside the root.
    let inside = dir.path().join(outside.path().strip_prefix("/").unwrap());
    std::fs::create_dir_all(&inside).unwrap();
    fs.write("/etc/conf/x.yaml", b"data", 0o640, None).unwrap();
    assert!(
        !outside.path().join("x.yaml").exists(),
        "hop wrote outside the root"
    );
    assert_eq!(std::fs::read(inside.join("x.yaml")).unwrap(), b"data");
    // `..` stops at the root.
    std::os::unix::fs::symlink("../../../../../../srv", dir.path().join("etc/up")).unwrap();
    std::fs::create_dir_all(dir.path().join("srv")).unwrap();
    fs.write("/etc/up/y", b"y", 0o600, None).unwrap();
    assert!(dir.path().join("srv/y").exists());
}

#[test]
fn a_link_at_the_target_is_replaced_not_followed() {
    let (dir, fs) = host();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink("/victim", dir.path().join("etc/manager/rest.yaml")).unwrap();
    assert_eq!(
        fs.stat("/etc/manager/rest.yaml").unwrap().unwrap().0,
        Kind::Symlink
    );
    fs.write("/etc/manager/rest.yaml", b"new", 0o640, Some((0, 0)))
        .unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    let written = fs.read_file("/etc/manager/rest.yaml").unwrap().unwrap();
    assert_eq!(
        (written.data.as_slice(), written.mode),
        (&b"new"[..], 0o640)
    );
}

#[test]
fn reads_report_what_is_there() {
    let (_dir, fs) = host();
    assert_eq!(fs.read("/etc/manager/none").unwrap(), None);
    assert!(fs.read("/etc/manager").is_err());
    fs.remove("/etc/manager/none").unwrap();
}

#[test]
fn a_trusted_file_must_be_roots_and_writable_by_its_owner_only() {
    use super::only_owner_may_write;
    assert!(only_owner_may_write("k", 0, 0o644).is_ok());
    assert!(only_owner_may_write("k", 0, 0o600).is_ok());
    let others = only_owner_may_write("k", 0, 0o666).unwrap_err();
    assert!(others.contains("writable by others (mode 666)"), "{others}");
    assert!(only_owner_may_write("k", 0, 0o664).is_err());
    if nix::unistd::geteuid().is_root() {
        let user = only_owner_may_write("k", 1000, 0o644).unwrap_err();
        assert!(user.contains("belongs to uid 1000"), "{user}");
    }
}
