//! `hop-testdata`: makes the demo product's release tree and sandbox
//! manager hosts from the command line, for `make demo` and benchmarks.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hop_artifact::migration::Backend;
use hop_testdata::sandbox::{Sandbox, SandboxOptions};

#[derive(Parser)]
#[command(about = "Fixtures for hop: the demo product's release tree and sandbox hosts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the demo product's RPMs, configs and migrations for every version
    Release {
        /// Where to write the tree (the manifests expect manifests/release)
        #[arg(long, default_value = "manifests/release")]
        out: PathBuf,
    },
    /// Create a sandbox manager host at 4.0.1 and leave it running
    SandboxCreate {
        #[arg(long)]
        root: PathBuf,
        /// The release tree (from `release`)
        #[arg(long, default_value = "manifests/release")]
        release: PathBuf,
        /// The public key the host trusts
        #[arg(long)]
        trust: PathBuf,
        /// Use a fresh PostgreSQL database instead of SQLite
        #[arg(long)]
        postgresql: bool,
    },
    /// Roll a three-node cluster at 4.0.1 to a version through Ansible, under load
    DemoCluster {
        /// The release tree (from `release`)
        #[arg(long, default_value = "manifests/release")]
        release: PathBuf,
        /// The public key the nodes trust
        #[arg(long)]
        trust: PathBuf,
        /// The cluster edition's packages
        #[arg(long)]
        packages: PathBuf,
        /// The hop-install the nodes run
        #[arg(long, default_value = "target/debug/hop-install")]
        hop_install: PathBuf,
        /// Where the nodes live while the demo runs
        #[arg(long, default_value = "out/cluster")]
        dir: PathBuf,
        #[arg(long, default_value = "4.3.0")]
        to: String,
    },
    /// Stop a sandbox host's services
    SandboxStop {
        #[arg(long)]
        root: PathBuf,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Release { out } => {
            hop_testdata::product::write_release_tree(&out)?;
            println!("wrote the release tree of manager to {}", out.display());
        }
        Command::SandboxCreate {
            root,
            release,
            trust,
            postgresql,
        } => {
            let opts = SandboxOptions {
                backend: if postgresql {
                    Backend::Postgresql
                } else {
                    Backend::Sqlite
                },
                netns: false,
                ..SandboxOptions::sqlite()
            };
            let sandbox = Sandbox::create(&root, &release, &trust, &opts)?;
            for (name, version) in sandbox.service_versions() {
                println!("{name}: {}", version.as_deref().unwrap_or("not answering"));
            }
            println!(
                "sandbox manager host at {} runs 4.0.1 (supervisord: {}/etc/supervisord.conf)",
                root.display(),
                root.display()
            );
            // The demo applies packages to it next.
            sandbox.leave_running();
        }
        Command::DemoCluster {
            release,
            trust,
            packages,
            hop_install,
            dir,
            to,
        } => {
            let hop_install = std::path::absolute(&hop_install)?;
            let packages = std::path::absolute(&packages)?;
            hop_testdata::cluster::demo::run(&hop_testdata::cluster::demo::Demo {
                release: &release,
                trust: &trust,
                packages: &packages,
                hop_install: &hop_install,
                dir: &dir,
                to: &to,
            })?;
        }
        Command::SandboxStop { root } => {
            let conf = root.join("etc/supervisord.conf");
            let out = std::process::Command::new("supervisorctl")
                .arg("-c")
                .arg(&conf)
                .arg("shutdown")
                .output()
                .context("running supervisorctl")?;
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
    }
    Ok(())
}
