//! The `hop-build` command line: argument definitions (also used to
//! generate man pages and completions) and the dispatch to operations.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::build::{BuildOptions, build, source_date_epoch};
use crate::schemas::SchemaOptions;
use crate::sign::Signing;
use crate::{Refused, inspect, keygen, publish, verify};

#[derive(Parser)]
#[command(
    name = "hop-build",
    version,
    about = "Build reproducible, signed .hop upgrade packages, one per version hop",
    after_help = "Exit status: 0 done; 1 failed; 2 refused (bad input or bad package).\n\n\
Typical release:\n  hop-build keygen --out-dir keys --name release\n  \
hop-build build manifests/manager-4.0.1-to-4.1.1.yaml --key keys/release.sec.asc -o out/manager-4.0.1-to-4.1.1.hop\n  \
hop-build verify out/manager-4.0.1-to-4.1.1.hop --key keys/release.pub.asc"
)]
/// The command line of `hop-build`.
pub struct Cli {
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

/// The kinds of key `keygen` makes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Algorithm {
    /// Ed25519 (EdDSA)
    Ed25519,
    /// RSA, 4096 bits
    Rsa4096,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create a package-signing key pair (NAME.sec.asc, NAME.pub.asc)
    #[command(
        after_help = "Example:\n  hop-build keygen --out-dir keys --name release\n\n\
The secret key is written with mode 0600 and never overwritten. Give the\n\
public key to customers: it goes into the host's trusted_keys directory."
    )]
    Keygen {
        /// Directory to write the key files into
        #[arg(long)]
        out_dir: PathBuf,
        /// Base name of the key files
        #[arg(long, default_value = "hop-release")]
        name: String,
        /// The key's user id
        #[arg(long, default_value = "hop release signing key")]
        user_id: String,
        /// ed25519 (small, fast; EL8 and later) or rsa4096 (what EL7's rpm
        /// and gpg 2.0, and FIPS-mode hosts, can check)
        #[arg(long, value_enum, default_value_t = Algorithm::Ed25519)]
        algorithm: Algorithm,
    },
    /// Build and sign a package from a source manifest
    #[command(after_help = "Examples:\n  \
hop-build build manifests/manager-4.0.1-to-4.1.1.yaml --key keys/release.sec.asc -o out/manager-4.0.1-to-4.1.1.hop\n  \
hop-build build manifests/manager-4.0.1-to-4.1.1.yaml --gpg-key release@example.com -o out/manager-4.0.1-to-4.1.1.hop\n\n\
Every input is checked first (RPM headers, configs, migration numbering and\n\
phases, the online-migration linter, services); all problems are listed and\n\
nothing is written. With --previous, the migrations the previous release\n\
shipped must be here unchanged and new ones numbered above its last. The\n\
schemas the hop expects before and after are made on a scratch database:\n\
SQLite in a file, PostgreSQL and MariaDB on the --schema-db servers. Set SOURCE_DATE_EPOCH for reproducible timestamps; the\n\
same inputs and key give the same bytes. A --key protected by a passphrase\n\
reads it from HOP_KEY_PASSPHRASE.")]
    Build {
        /// The source manifest (manifests/PRODUCT-FROM-to-TO.yaml)
        manifest: PathBuf,
        /// Sign with this armoured secret key file
        #[arg(long, conflicts_with = "gpg_key", required_unless_present = "gpg_key")]
        key: Option<PathBuf>,
        /// Sign through gpg with this key (id, fingerprint or user id)
        #[arg(long)]
        gpg_key: Option<String>,
        /// The package to write
        #[arg(short, long)]
        output: PathBuf,
        /// The package of the release before: its migrations must be here
        /// unchanged, and new ones numbered above its last
        #[arg(long, value_name = "PKG")]
        previous: Option<PathBuf>,
        /// A PostgreSQL or MariaDB server to make the expected schemas on
        /// (a scratch database is created and dropped; repeatable)
        #[arg(long, value_name = "URL")]
        schema_db: Vec<String>,
        /// Keep made schemas in DIR, keyed by the migrations' content
        #[arg(long, value_name = "DIR", env = "HOP_SCHEMA_CACHE")]
        schema_cache: Option<PathBuf>,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show what a package contains and whether its members are intact
    #[command(
        after_help = "Example:\n  hop-build inspect out/manager-4.0.1-to-4.1.1.hop --json | jq .manifest.migrations"
    )]
    Inspect {
        package: PathBuf,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Publish a package for dnf: a signed noarch RPM in a yum repository
    #[command(after_help = "Example:\n  \
hop-build publish out/manager-4.0.1-to-4.1.1.hop --key keys/release.sec.asc --repo repo/\n\n\
Makes manager-hop-4.0.1-to-4.1.1 (installing the package under /var/lib/hop/packages/),\n\
signs it with the key that signed the package, and runs createrepo_c on the repository.\n\
A customer then runs:\n  dnf install manager-hop-4.0.1-to-4.1.1\n  hop-install upgrade --to 4.1.1\n\n\
A file already published is never replaced (exit 2). Hosts import the public key\n\
(the repository's gpgkey=) so dnf checks the RPM's signature.")]
    Publish {
        package: PathBuf,
        /// The secret key that signed the package (signs the RPM too)
        #[arg(long)]
        key: PathBuf,
        /// The yum repository directory (created if missing)
        #[arg(long, value_name = "DIR")]
        repo: PathBuf,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Write hop-index.json for a directory of packages served over HTTPS
    #[command(
        after_help = "Example:\n  hop-build index out/ && rsync -a out/ web:/srv/hop/\n\n\
`hop-install upgrade --to V --from-repo https://web/hop/` reads the index to find a route and\n\
downloads only the packages on it. An s3:// bucket needs no index."
    )]
    Index {
        /// The directory holding *.hop files
        dir: PathBuf,
    },
    /// Verify a package's signature and every member, as the installer does
    #[command(
        after_help = "Example:\n  hop-build verify out/manager-4.0.1-to-4.1.1.hop --key keys/release.pub.asc"
    )]
    Verify {
        package: PathBuf,
        /// A trusted public key (repeatable)
        #[arg(long, required = true)]
        key: Vec<PathBuf>,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen {
            out_dir,
            name,
            user_id,
            algorithm,
        } => {
            let algorithm = match algorithm {
                Algorithm::Ed25519 => hop_artifact::signature::KeyAlgorithm::Ed25519,
                Algorithm::Rsa4096 => hop_artifact::signature::KeyAlgorithm::Rsa4096,
            };
            let files = keygen::keygen_with(&out_dir, &name, &user_id, algorithm)?;
            println!("key {}", files.fingerprint);
            println!(
                "  secret: {} (keep it safe; mode 0600)",
                files.secret.display()
            );
            println!("  public: {} (hosts trust it)", files.public.display());
        }
        Command::Build {
            manifest,
            key,
            gpg_key,
            output,
            previous,
            schema_db,
            schema_cache,
            json,
        } => {
            let signing = match (key, gpg_key) {
                (Some(path), _) => Signing::KeyFile(path),
                (None, Some(id)) => Signing::Gpg(id),
                (None, None) => return Err(Refused::new("give --key or --gpg-key").into()),
            };
            let report = build(&BuildOptions {
                manifest,
                signing,
                output,
                source_date_epoch: source_date_epoch()?,
                previous,
                schemas: SchemaOptions {
                    servers: schema_db,
                    cache: schema_cache,
                },
            })?;
            if json {
                return print_json(&report);
            }
            for note in &report.notes {
                eprintln!("note: {note}");
            }
            println!(
                "built {}: {} ({} members, {} bytes, signed by {})",
                report.title,
                report.output.display(),
                report.members,
                report.bytes,
                report.signed_by
            );
        }
        Command::Inspect { package, json } => {
            let found = inspect::inspect(&package)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            } else {
                print!("{}", inspect::render(&found));
            }
            if !found.members_intact {
                return Err(Refused::new(format!(
                    "{} is damaged: {}",
                    package.display(),
                    found.problem.unwrap_or_default()
                ))
                .into());
            }
        }
        Command::Publish {
            package,
            key,
            repo,
            json,
        } => {
            let done = publish::publish(
                &package,
                &Signing::KeyFile(key),
                &repo,
                source_date_epoch()?,
            )?;
            if json {
                return print_json(&done);
            }
            println!(
                "published {}: {} (installs {})",
                done.name,
                done.rpm.display(),
                done.installs
            );
        }
        Command::Index { dir } => {
            let index = publish::index(&dir)?;
            println!(
                "{} lists {} package(s)",
                dir.join("hop-index.json").display(),
                index.packages.len()
            );
        }
        Command::Verify { package, key, json } => {
            let report = verify::verify(&package, &key)?;
            if json {
                return print_json(&report);
            }
            print!("{}", report.render());
        }
    }
    Ok(())
}
