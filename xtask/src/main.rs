//! `cargo run -p xtask -- TASK`: shell completions and man pages generated
//! from the real command-line definitions, the hop RPMs (`hop-installer`,
//! `hop-builder`) built with the `rpm` crate, and the check that the
//! binaries start on the oldest glibc hop supports, and the check that
//! no two modules of the installer depend on each other.

mod glibc;
mod man_sections;
mod module_cycles;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

#[derive(Parser)]
#[command(about = "hop's project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Write bash, zsh and fish completions for both tools
    Completions {
        #[arg(long, default_value = "target/completions")]
        out: PathBuf,
    },
    /// Write man pages for both tools and every subcommand
    Man {
        #[arg(long, default_value = "target/man")]
        out: PathBuf,
    },
    /// Build the hop-installer and hop-builder RPMs
    Rpm {
        #[arg(long, default_value = "target/rpm")]
        out: PathBuf,
        /// Where the hop-install and hop-build binaries are
        #[arg(long, default_value = "target/x86_64-unknown-linux-gnu/release")]
        binaries: PathBuf,
    },
    /// Print the top-level modules of a crate that depend on each other in a circle
    /// (exit 1 if any)
    Cycles {
        #[arg(default_value = "installer/src")]
        src: PathBuf,
    },
    /// Refuse binaries that need a newer glibc than --max (EL7 has 2.17)
    Glibc {
        #[arg(long, default_value = "2.17")]
        max: String,
        #[arg(required = true)]
        binaries: Vec<PathBuf>,
    },
}

fn commands() -> [(&'static str, clap::Command); 2] {
    [
        ("hop-install", hop_installer::Cli::command()),
        ("hop-build", hop_builder::Cli::command()),
    ]
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Completions { out } => {
            let files = completions(&out)?;
            println!(
                "wrote {} completion files to {}",
                files.len(),
                out.display()
            );
        }
        Task::Man { out } => {
            let files = man_pages(&out)?;
            println!("wrote {} man pages to {}", files.len(), out.display());
        }
        Task::Cycles { src } => {
            let found = module_cycles::cycles(&module_cycles::graph(&src)?);
            for circle in &found {
                println!("cycle: {}", circle.join(" <-> "));
            }
            anyhow::ensure!(
                found.is_empty(),
                "{} module cycles in {}",
                found.len(),
                src.display()
            );
            println!("no module cycle in {}", src.display());
        }
        Task::Glibc { max, binaries } => {
            let max = glibc::parse(&format!("GLIBC_{max}"))
                .with_context(|| format!("--max {max}: not a glibc version such as 2.17"))?;
            for binary in binaries {
                let newest = glibc::check(&binary, max)?;
                println!(
                    "{}: newest glibc symbol {}",
                    binary.display(),
                    newest.map_or("none".to_owned(), |(a, b)| format!("GLIBC_{a}.{b}"))
                );
            }
        }
        Task::Rpm { out, binaries } => {
            for tool in ["hop-install", "hop-build"] {
                let path = build_rpm(tool, &binaries, &out)?;
                println!("built {}", path.display());
            }
        }
    }
    Ok(())
}

/// Completion scripts, as (shell, tool, path).
fn completions(out: &Path) -> Result<Vec<(Shell, String, PathBuf)>> {
    std::fs::create_dir_all(out)?;
    let mut files = Vec::new();
    for (name, mut cmd) in commands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let path = clap_complete::generate_to(shell, &mut cmd, name, out)
                .with_context(|| format!("generating {shell} completions for {name}"))?;
            if shell == Shell::Bash {
                fix_bash_names(&path, name)?;
            }
            files.push((shell, name.to_owned(), path));
        }
    }
    Ok(files)
}

/// clap_complete's bash script names a hyphenated tool's subcommands two
/// ways (`hop__install__subcmd__apply` where it walks the words,
/// `hop__subcmd__install__subcmd__apply` where it lists the options), so
/// it completes only verbs: the second spelling is made the first.
fn fix_bash_names(path: &Path, tool: &str) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    let wrong = format!("{}__subcmd__", tool.replace('-', "__subcmd__"));
    let right = format!("{}__subcmd__", tool.replace('-', "__"));
    std::fs::write(path, text.replace(&wrong, &right))?;
    Ok(())
}

/// Man pages: one per tool and per subcommand (`hop-install-apply.1`),
/// each with the tool's FILES, ENVIRONMENT and EXIT STATUS, and
/// `host.yaml.5`.
fn man_pages(out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let mut files = Vec::new();
    for (name, cmd) in commands() {
        let cmd = cmd.name(name);
        files.push(write_page(&cmd, name, name, out)?);
        for sub in cmd.get_subcommands() {
            let page = format!("{name}-{}", sub.get_name());
            files.push(write_page(
                &sub.clone().name(page.clone()),
                &page,
                name,
                out,
            )?);
            for nested in sub.get_subcommands() {
                let nested_page = format!("{page}-{}", nested.get_name());
                files.push(write_page(
                    &nested.clone().name(nested_page.clone()),
                    &nested_page,
                    name,
                    out,
                )?);
            }
        }
    }
    let host_yaml = out.join("host.yaml.5");
    std::fs::write(&host_yaml, man_sections::HOST_YAML)?;
    files.push(host_yaml);
    Ok(files)
}

/// One page of `tool`: clap's sections, then the tool's own.
fn write_page(cmd: &clap::Command, name: &str, tool: &str, out: &Path) -> Result<PathBuf> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    if cmd.get_subcommands().next().is_some() {
        man.render_subcommands_section(&mut page)?;
    }
    if cmd.get_after_help().is_some() || cmd.get_after_long_help().is_some() {
        man.render_extra_section(&mut page)?;
    }
    page.extend_from_slice(man_sections::extra(tool).as_bytes());
    if cmd.get_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    let path = out.join(format!("{name}.1"));
    std::fs::write(&path, page)?;
    Ok(path)
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

/// `hop-installer-<version>` (for `hop-install`) or `hop-builder-<version>`.
fn build_rpm(tool: &str, binaries: &Path, out: &Path) -> Result<PathBuf> {
    let version = env!("CARGO_PKG_VERSION");
    let (package, summary) = match tool {
        "hop-install" => (
            "hop-installer",
            "Applies signed .hop upgrade packages on a manager host",
        ),
        _ => (
            "hop-builder",
            "Builds reproducible, signed .hop upgrade packages",
        ),
    };
    let scratch = out.join(format!(".{package}-files"));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    let man = man_pages(&scratch.join("man"))?;
    let completions = completions(&scratch.join("completions"))?;

    let binary = binaries.join(tool);
    let mut builder = rpm::PackageBuilder::new(
        package,
        version,
        "Apache-2.0",
        std::env::consts::ARCH,
        summary,
    );
    builder
        .using_config(rpm::BuildConfig::default().compression(rpm::CompressionWithLevel::Gzip(6)))
        .release("1")
        .description(format!("{summary}. See man {tool}(1)."))
        .vendor("hop developers")
        // What every host has and hop calls: rpm itself (4.11 is EL7's),
        // runuser and setsid (util-linux), glibc 2.17 (EL7's; the binaries
        // are built for it). The service manager and the database's client
        // tools are the host's own choice (systemd or supervisord;
        // PostgreSQL's or MariaDB's): EL7's rpm has no "A or B"
        // dependency, and hop checks for them at run time.
        .requires(rpm::Dependency::greater_eq("rpm", "4.11"))
        .requires(rpm::Dependency::any("util-linux"))
        .requires(rpm::Dependency::greater_eq("glibc", "2.17"))
        .with_file(
            &binary,
            rpm::FileOptions::new(format!("/usr/bin/{tool}")).permissions(0o755),
        )
        .with_context(|| format!("adding {} (build it first)", binary.display()))?;
    for page in man.iter().filter(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(tool))
    }) {
        let name = page
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        builder.with_file_contents(
            gzip(&std::fs::read(page)?)?,
            rpm::FileOptions::new(format!("/usr/share/man/man1/{name}.gz")).permissions(0o644),
        )?;
    }
    if tool == "hop-install" {
        builder.with_file_contents(
            gzip(man_sections::HOST_YAML.as_bytes())?,
            rpm::FileOptions::new("/usr/share/man/man5/host.yaml.5.gz").permissions(0o644),
        )?;
    }
    for (shell, name, path) in completions.iter().filter(|(_, n, _)| n == tool) {
        let dest = match shell {
            Shell::Bash => format!("/usr/share/bash-completion/completions/{name}"),
            Shell::Zsh => format!("/usr/share/zsh/site-functions/_{name}"),
            _ => format!("/usr/share/fish/vendor_completions.d/{name}.fish"),
        };
        builder.with_file(path, rpm::FileOptions::new(dest).permissions(0o644))?;
    }
    if tool == "hop-install" {
        builder.with_file_contents(
            EXAMPLE_HOST_YAML,
            rpm::FileOptions::new("/usr/share/doc/hop-installer/host.yaml.example")
                .permissions(0o644),
        )?;
    }
    let rpm = builder
        .build()
        .with_context(|| format!("building {package}"))?;
    std::fs::create_dir_all(out)?;
    let path = out.join(format!(
        "{package}-{version}-1.{}.rpm",
        std::env::consts::ARCH
    ));
    rpm.write_file(&path)?;
    std::fs::remove_dir_all(&scratch)?;
    Ok(path)
}

const EXAMPLE_HOST_YAML: &str =
    "# /etc/hop/host.yaml: what hop-install needs to know about this host.
# See `man hop-install` and docs/host.md.
product: manager
version_from_rpm: rest-service        # before hop's first run, the installed version is this RPM's
database:
  url: postgresql://manager@localhost/manager?host=/var/run/postgresql
services:
  manager: systemd                    # or supervisord (then also supervisord_conf)
trusted_keys: /etc/hop/trusted-keys/  # the vendor's public keys (*.asc)
rpm_cache: /var/cache/manager/rpms    # the installed version's RPMs, for hop's first rollback
";
