//! `hop-build build`: validate, hash, sign, write — in that order, so a bad
//! input is refused before a byte of output exists, and a failure while
//! writing leaves no partial file behind.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use hop_artifact::digest::{HashingReader, IO_BUFFER};
use hop_artifact::migration::OfflineMode;
use hop_artifact::package_manifest::Member;
use hop_artifact::writer::PackageWriter;
use hop_artifact::yaml;
use serde::Serialize;

use crate::Refused;
use crate::schemas::{self, SchemaOptions};
use crate::sign::Signing;
use crate::validate::{self, MemberSource, Plan};
use hop_artifact::progress;

/// The builder's name and version, recorded in every package.
pub const BUILDER: &str = concat!("hop-build ", env!("CARGO_PKG_VERSION"));

/// What to build, and how to sign it.
pub struct BuildOptions {
    /// The source manifest (`manifests/*.yaml`).
    pub manifest: PathBuf,
    /// The release key, or the GnuPG agent.
    pub signing: Signing,
    /// Where the `.hop` is written (atomically: a reader sees the old file
    /// or the whole new one).
    pub output: PathBuf,
    /// `SOURCE_DATE_EPOCH`, or 0.
    pub source_date_epoch: u64,
    /// The package of the release before, to check the history's order.
    pub previous: Option<PathBuf>,
    /// Where the expected schemas are made.
    pub schemas: SchemaOptions,
}

/// What was built.
#[derive(Debug, Serialize)]
pub struct BuildReport {
    /// The package written.
    pub output: PathBuf,
    /// `manager 4.0.1 → 4.1.1`.
    pub title: String,
    /// How many payload members it holds.
    pub members: usize,
    /// Its size.
    pub bytes: u64,
    /// The signing key's fingerprint.
    pub signed_by: String,
    /// What the release engineer should know (not problems).
    pub notes: Vec<String>,
}

/// A source file as it was when hashed: if it differs when copied, the
/// build fails rather than write a package that does not verify.
struct Hashed {
    member: Member,
    file: PathBuf,
    modified: Option<SystemTime>,
}

/// Validates the source manifest and everything it names, then writes the
/// signed, reproducible package; any problem refuses the build.
pub fn build(options: &BuildOptions) -> Result<BuildReport> {
    let mut plan = validate::validate(&options.manifest, BUILDER, options.source_date_epoch)
        .map_err(|problems| {
            Refused::new(format!(
                "{} problem(s) in the inputs; nothing was written:\n{problems}",
                problems.len()
            ))
        })?;
    if let Some(previous) = &options.previous {
        let problems = crate::previous::problems(&plan, previous)?;
        if !problems.is_empty() {
            return Err(Refused::new(format!(
                "{} problem(s) against --previous {}; nothing was written:\n  {}",
                problems.len(),
                previous.display(),
                problems.join("\n  ")
            ))
            .into());
        }
    }
    let work = tempfile::tempdir().context("cannot make a scratch directory")?;
    let mut notes = std::mem::take(&mut plan.notes);
    // The key first: a refused key should not wait for the schemas.
    let signer = options.signing.prepare()?;
    // What the schemas step refuses is the manifest's: say which.
    let made = schemas::make(&mut plan, &options.schemas, work.path()).map_err(|e| match e
        .downcast::<Refused>()
    {
        Ok(r) => anyhow::Error::from(Refused::new(format!(
            "{}: {}",
            options.manifest.display(),
            r.0
        ))),
        Err(e) => e,
    })?;
    notes.extend(made);
    notes.extend(offline_notes(&plan)?);
    let out_dir = match options.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !out_dir.is_dir() {
        return Err(Refused::new(format!(
            "the output directory {} does not exist",
            out_dir.display()
        ))
        .into());
    }

    let hashed = hash_all(&plan.sources)?;
    plan.manifest.members = hashed.iter().map(|h| h.member.clone()).collect();
    let manifest_yaml = yaml::to_string(&plan.manifest).context("cannot serialise hop.yaml")?;
    let signature = signer.sign(manifest_yaml.as_bytes(), options.source_date_epoch)?;

    let total: u64 = hashed.iter().map(|h| h.member.size).sum();
    let mut temp = tempfile::Builder::new()
        .prefix(".hop-build-")
        .tempfile_in(&out_dir)
        .with_context(|| format!("cannot create a file in {}", out_dir.display()))?;
    let bar = progress::bytes(total, "writing");
    {
        let out = std::io::BufWriter::with_capacity(IO_BUFFER, temp.as_file_mut());
        let mut writer = PackageWriter::begin(
            out,
            manifest_yaml.as_bytes(),
            signature.as_bytes(),
            options.source_date_epoch,
        )?;
        for h in &hashed {
            let mut file =
                File::open(&h.file).with_context(|| format!("cannot open {}", h.file.display()))?;
            if file.metadata()?.modified().ok() != h.modified {
                bail!("{} changed during the build; build again", h.file.display());
            }
            writer
                .append(&h.member.path, h.member.size, &mut file, &mut |n| {
                    bar.inc(n)
                })
                .with_context(|| format!("writing {}", h.member.path))?;
        }
        writer.finish()?.flush()?;
    }
    bar.finish_and_clear();
    // Renamed into place whole, but not fsynced: a build interrupted by a
    // power cut is simply run again, and release CI pays no disk flush.
    let bytes = temp.as_file().metadata()?.len();
    temp.persist(&options.output)
        .with_context(|| format!("cannot write {}", options.output.display()))?;

    Ok(BuildReport {
        output: options.output.clone(),
        title: plan.manifest.title(),
        members: hashed.len(),
        bytes,
        signed_by: signer.describe(),
        notes,
    })
}

/// What the release engineer should know about the hop's offline phase:
/// on which database it cannot run in one transaction, and so costs a
/// restore when it fails (MariaDB always does; docs/migrations.md says so).
fn offline_notes(plan: &Plan) -> Result<Vec<String>> {
    let text = |member: &str| {
        let source = plan.sources.iter().find(|s| s.path == member)?;
        std::fs::read_to_string(&source.file).ok()
    };
    let modes = plan.manifest.offline_modes(text).map_err(Refused::new)?;
    Ok(modes
        .into_iter()
        .filter_map(|(backend, mode)| match mode {
            OfflineMode::PerMigration { because: Some(_) } => Some(format!(
                "the offline phase on {backend} runs {}; with that statement in a post migration \
                 a failed offline phase would roll back without a restore",
                mode.describe()
            )),
            _ => None,
        })
        .collect())
}

/// Hashes every source, several at a time, with one progress bar.
fn hash_all(sources: &[MemberSource]) -> Result<Vec<Hashed>> {
    let sizes: Vec<u64> = sources
        .iter()
        .map(|s| std::fs::metadata(&s.file).map(|m| m.len()).unwrap_or(0))
        .collect();
    let bar = progress::bytes(sizes.iter().sum(), "hashing");
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Hashed>>>> =
        Mutex::new((0..sources.len()).map(|_| None).collect());
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(sources.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(source) = sources.get(i) else { break };
                    let result = hash_one(source, &|n| bar.inc(n));
                    if let Ok(mut all) = results.lock() {
                        all[i] = Some(result);
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    let all = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?;
    all.into_iter()
        .map(|r| r.unwrap_or_else(|| bail!("a member was not hashed")))
        .collect()
}

fn hash_one(source: &MemberSource, progress: &dyn Fn(u64)) -> Result<Hashed> {
    let file = File::open(&source.file)
        .with_context(|| format!("cannot open {}", source.file.display()))?;
    let modified = file.metadata()?.modified().ok();
    let mut reader = HashingReader::new(BufReader::with_capacity(IO_BUFFER, file));
    let mut buf = vec![0u8; IO_BUFFER];
    loop {
        let n = std::io::Read::read(&mut reader, &mut buf)
            .with_context(|| format!("reading {}", source.file.display()))?;
        if n == 0 {
            break;
        }
        progress(n as u64);
    }
    let (sha256, size) = reader.finish();
    Ok(Hashed {
        member: Member {
            path: source.path.clone(),
            size,
            sha256,
        },
        file: source.file.clone(),
        modified,
    })
}

/// Reads `SOURCE_DATE_EPOCH` from the environment; 0 when unset.
pub fn source_date_epoch() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v.trim().parse().map_err(|_| {
            Refused::new(format!(
                "SOURCE_DATE_EPOCH={v:?} is not a number of seconds"
            ))
            .into()
        }),
        Err(_) => Ok(0),
    }
}
