//! # hop-installer
//!
//! The operations behind `hop-install`. `cli` parses the command line;
//! `ops` holds one module per verb; `operation` runs the journaled
//! `steps` forward and rolls them back; `preflight` is the checks;
//! `host`, `state` and `journal` are the host model.
//!
//! A newcomer looking for where a step of the installer lives finds it by
//! its name under `steps/`: `stage`, `backup`, `migrate`, `services`,
//! `rpms`, `configs`, `health`, `commit`, `cleanup`.
//!
//! The library exists for the `hop-install` binary and for `hop-bench`;
//! only what they call is public.

#![deny(missing_docs)]

mod action;
mod adoption;
mod atomic;
mod capture;
mod chain;
mod children;
mod cli;
mod clock;
mod containment;
mod error;
/// Fault injection (a test aid): the named points the crash and recovery
/// matrices strike.
pub mod fault;
mod health;
mod history;
mod host;
mod host_state;
mod hostfs;
mod interrupt;
mod journal;
mod lock;
mod log;
mod operation;
mod ops;
mod package;
mod plan;
pub(crate) mod preflight;
mod procfs;
mod progress;
mod recovery;
mod rehearsal;
mod remote;
mod report;
mod route;
mod rpm_leftovers;
mod rpm_sources;
mod rpmdb;
mod runner;
mod services;
mod session;
mod state_dir;
mod steps;
mod terminal;
mod trust;

pub use capture::Capture;
pub use cli::{Cli, run};
/// The hidden first argument of the containing process (`containment`).
pub use containment::VERB as CONTAIN_VERB;
/// Runs the containing process with the arguments after its verb.
pub use containment::main as contain;
pub use error::Error;
pub use host::Host;
pub use log::Log;
pub use runner::Runner;
pub use services::{ServiceManager, for_host as service_manager};
/// Text made safe for a terminal (control characters shown, not sent).
pub use terminal::printable;
