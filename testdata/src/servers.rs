//! Real servers packages are fetched from in tests and benchmarks: an
//! HTTP(S) file server with ranges (and a fault that cuts a download
//! partway), and an S3-compatible server (moto, authentication on). Both
//! are Python programs under `testdata/servers/`; each is started with a
//! `Command` the caller makes (inside a sandbox's network namespace, say)
//! and killed when its value goes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The directory holding the servers' programs.
pub fn programs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("servers")
}

static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A running server process, killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `python3 PROGRAM ARGS` with `launcher` (a command whose
/// arguments come before the program, e.g. `ip netns exec NS`) and reads
/// the JSON line it prints once ready.
fn start<T: for<'de> Deserialize<'de>>(
    mut launcher: Command,
    program: &str,
    args: &[String],
) -> Result<(Process, T)> {
    crate::fixtures::require_tool("python3", "python3")?;
    // Its own messages go to a file: a pipe nobody reads would fill and stop it.
    let errors = std::env::temp_dir().join(format!(
        "hop-{program}-{}-{}.err",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let mut child = launcher
        .arg(programs().join(program))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&errors)?))
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let mut line = String::new();
    let stdout = child.stdout.take().context("no stdout")?;
    BufReader::new(stdout).read_line(&mut line)?;
    let process = Process(child);
    if line.trim().is_empty() {
        let err = std::fs::read_to_string(&errors).unwrap_or_default();
        bail!("{program} did not start: {}", err.trim());
    }
    let ready =
        serde_json::from_str(line.trim()).with_context(|| format!("{program} printed {line:?}"))?;
    Ok((process, ready))
}

/// How the file server behaves.
#[derive(Clone, Debug, Default)]
pub struct FileServerOptions {
    /// Serve HTTPS with this certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Cut each file's first full download after this fraction of it.
    pub cut_once: Option<f64>,
    /// Stall (keep the connection, send nothing more) each file's first
    /// full download after this fraction of it.
    pub stall_once: Option<f64>,
    /// Stall every download after this fraction of what it sends.
    pub stall_always: Option<f64>,
}

/// An HTTP(S) server of a directory on 127.0.0.1.
pub struct FileServer {
    _process: Process,
    /// The port it listens on.
    pub port: u16,
    /// One line per GET: `GET /name range=bytes=N-` (or `range=-`).
    pub log: PathBuf,
}

#[derive(Deserialize)]
struct Port {
    port: u16,
}

impl FileServer {
    /// Serves `dir`; `python3` is the launcher's command (see [`start`]).
    pub fn start(python3: Command, dir: &Path, opts: &FileServerOptions) -> Result<Self> {
        let log = dir.with_extension("requests.log");
        let _ = std::fs::remove_file(&log);
        let mut args = vec![
            "--dir".to_owned(),
            dir.display().to_string(),
            "--log".into(),
            log.display().to_string(),
        ];
        if let Some((cert, key)) = &opts.tls {
            args.extend([
                "--tls".into(),
                cert.display().to_string(),
                key.display().to_string(),
            ]);
        }
        if let Some(f) = opts.cut_once {
            args.extend(["--cut-once".into(), f.to_string()]);
        }
        if let Some(f) = opts.stall_once {
            args.extend(["--stall-once".into(), f.to_string()]);
        }
        if let Some(f) = opts.stall_always {
            args.extend(["--stall-always".into(), f.to_string()]);
        }
        let (process, ready): (_, Port) = start(python3, "range_http.py", &args)?;
        Ok(Self {
            _process: process,
            port: ready.port,
            log,
        })
    }

    /// The requests it served so far.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// A certificate authority and a certificate it signed for 127.0.0.1
/// and localhost, made with `openssl` in `dir`: (ca.pem, cert.pem, key.pem).
pub fn make_tls(dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf)> {
    crate::fixtures::require_tool("openssl", "openssl")?;
    std::fs::create_dir_all(dir)?;
    let p = |n: &str| dir.join(n).display().to_string();
    let run = |args: &[&str]| -> Result<()> {
        let out = Command::new("openssl").args(args).output()?;
        if !out.status.success() {
            bail!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=hop test CA",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
    ])?;
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &p("key.pem"),
        "-out",
        &p("cert.csr"),
    ])?;
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )?;
    run(&[
        "x509",
        "-req",
        "-in",
        &p("cert.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &p("san.ext"),
        "-out",
        &p("cert.pem"),
    ])?;
    Ok((
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    ))
}

/// An S3-compatible server (moto) on 127.0.0.1 that checks signatures.
pub struct S3Server {
    _process: Process,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The bucket it made.
    pub bucket: String,
    /// The access key id allowed to read and write.
    pub access_key: String,
    /// Its secret.
    pub secret_key: String,
}

#[derive(Deserialize)]
struct S3Ready {
    endpoint: String,
    bucket: String,
    access_key: String,
    secret_key: String,
}

impl S3Server {
    /// Starts the server with `bucket` holding `objects` (key, file).
    pub fn start(python3: Command, bucket: &str, objects: &[(String, PathBuf)]) -> Result<Self> {
        Self::start_with(python3, bucket, objects, None)
    }

    /// The same, its answers sent at `throttle` bytes per second (a slow
    /// link) when given.
    pub fn start_with(
        python3: Command,
        bucket: &str,
        objects: &[(String, PathBuf)],
        throttle: Option<u64>,
    ) -> Result<Self> {
        let mut args = vec!["--bucket".to_owned(), bucket.to_owned()];
        if let Some(rate) = throttle {
            args.extend(["--throttle".into(), rate.to_string()]);
        }
        for (key, file) in objects {
            args.extend(["--upload".into(), format!("{key}={}", file.display())]);
        }
        let (process, ready): (_, S3Ready) = start(python3, "s3_server.py", &args)
            .context("the S3 test server needs moto: python3 -m pip install 'moto[server]' (scripts/deps.sh does)")?;
        Ok(Self {
            _process: process,
            endpoint: ready.endpoint,
            bucket: ready.bucket,
            access_key: ready.access_key,
            secret_key: ready.secret_key,
        })
    }

    /// The environment hop-install reads S3 settings from.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.clone()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}
