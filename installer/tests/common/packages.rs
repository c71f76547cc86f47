//! The packages tests install: the released hops, and variants of the
//! 4.0.1 → 4.1.1 hop built from an edited manifest.

use std::path::{Path, PathBuf};

use hop_testdata::fixtures::KeyPair;

use super::fixtures;

/// A directory holding the given packages (copied), as support staff
/// would hand them over.
pub fn packages_dir(name: &str, packages: &[String]) -> String {
    let dir = fixtures().scratch(&format!("packages-{name}")).unwrap();
    for p in packages {
        let p = PathBuf::from(p);
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    dir.display().to_string()
}

pub fn package(from: &str, to: &str) -> String {
    fixtures().package(from, to).display().to_string()
}

/// A package built from a variant of the 4.0.1 → 4.1.1 manifest: `edit`
/// rewrites the manifest text; `prepare` may write files into the variant's
/// own directory (passed to it) that the edited manifest names.
pub fn variant(
    name: &str,
    prepare: impl FnOnce(&Path),
    edit: impl FnOnce(String) -> String,
) -> String {
    variant_of(
        name,
        ("4.0.1", "4.1.1"),
        prepare,
        edit,
        &fixtures().vendor_key(),
    )
}

pub fn variant_of(
    name: &str,
    (from, to): (&str, &str),
    prepare: impl FnOnce(&Path),
    edit: impl FnOnce(String) -> String,
    key: &KeyPair,
) -> String {
    let f = fixtures();
    let dir = f.scratch(&format!("variant-{name}")).unwrap();
    prepare(&dir);
    let text = std::fs::read_to_string(f.manifest(from, to)).unwrap();
    let manifest = f
        .dir()
        .join("manifests")
        .join(format!("variant-{name}.yaml"));
    std::fs::write(&manifest, edit(text)).unwrap();
    let out = dir.join(format!("{name}.hop"));
    f.build(&manifest, key, &out)
        .unwrap_or_else(|e| panic!("building variant {name}: {e:#}"));
    out.display().to_string()
}

/// The 4.0.1 → 4.1.1 package whose rest-service never becomes ready: its
/// config says `ready: false` and its health gate waits only 3s.
pub fn never_healthy_package(name: &str) -> String {
    let good =
        std::fs::read_to_string(fixtures().release().join("4.1.1/configs/rest.yaml")).unwrap();
    variant_with_config(
        name,
        "rest.yaml",
        &format!("{good}ready: false\n"),
        (
            "health: {http: \"http://127.0.0.1:8101/readyz\", timeout: 60s, settle: 2s}",
            "health: {http: \"http://127.0.0.1:8101/readyz\", timeout: 3s, settle: 1s}",
        ),
    )
}

/// The 4.0.1 → 4.1.1 package with its config `file` holding `content`
/// instead, and one service's health check (`old`, `new`) replaced.
pub fn variant_with_config(
    name: &str,
    file: &str,
    content: &str,
    (old, new): (&str, &str),
) -> String {
    let dir = fixtures().dir().join(format!("scratch/variant-{name}"));
    variant(
        name,
        |d| std::fs::write(d.join(file), content).unwrap(),
        |m| {
            let m = replace(
                m,
                &format!("source: release/4.1.1/configs/{file}"),
                &format!("source: {}", dir.join(file).display()),
            );
            replace(m, old, new)
        },
    )
}

/// Replaces `from` with `to` in `text`, which must contain it.
pub fn replace(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the manifest");
    text.replacen(from, to, 1)
}

/// The 4.0.1 → 4.1.1 package with one migration, `file`, rewritten to
/// `sql`; the other migrations stay as released.
pub fn variant_with_migration(name: &str, file: &str, sql: &str) -> String {
    let migrations = fixtures()
        .dir()
        .join(format!("scratch/variant-{name}/migrations"));
    variant(
        name,
        |dir| {
            let migrations = dir.join("migrations");
            hop_testdata::product::write_migrations("4.1.1", &migrations).unwrap();
            std::fs::write(migrations.join(file), sql).unwrap();
            // A portable file that changed must not be shadowed by an old variant.
            let _ = std::fs::remove_file(migrations.join("postgresql").join(file));
            let _ = std::fs::remove_file(migrations.join("mariadb").join(file));
        },
        |m| {
            replace(
                m,
                "migrations: release/4.1.1/migrations/",
                &format!("migrations: {}", migrations.display()),
            )
        },
    )
}

/// `pkg` with its signed `hop.yaml` rewritten by `edit` and signed again
/// with the vendor's key: a package no builder made (so none of the
/// builder's refusals held it back), which the installer must judge alone.
pub fn resigned_package(name: &str, pkg: &str, edit: impl FnOnce(String) -> String) -> String {
    resigned_with(name, pkg, edit, &fixtures().vendor_key())
}

/// `pkg` with its `hop.yaml` rewritten by `edit` and signed by `key` —
/// which may be one the builder refuses to sign with (revoked, expired).
pub fn resigned_with(
    name: &str,
    pkg: &str,
    edit: impl FnOnce(String) -> String,
    key: &KeyPair,
) -> String {
    use hop_artifact::signature::SigningKey;
    let f = fixtures();
    let good = std::fs::read(pkg).unwrap();
    let members = hop_testdata::craft::parse(&good).unwrap();
    let manifest = edit(String::from_utf8(members[0].data.clone()).unwrap());
    let signer =
        SigningKey::from_armored(&std::fs::read_to_string(&key.secret).unwrap(), None).unwrap();
    let signature = signer
        .sign(
            manifest.as_bytes(),
            hop_testdata::fixtures::SOURCE_DATE_EPOCH,
        )
        .unwrap();
    let bytes =
        hop_testdata::craft::resigned(&good, manifest.as_bytes(), signature.as_bytes()).unwrap();
    let out = f
        .scratch(&format!("resigned-{name}"))
        .unwrap()
        .join(format!("{name}.hop"));
    std::fs::write(&out, bytes).unwrap();
    out.display().to_string()
}
