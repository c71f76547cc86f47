//! # hop-installer
//!
//! The operations behind `hop-install`. [`cli`] parses the command line;
//! [`ops`] holds one module per verb; [`operation`] runs the journaled
//! [`steps`] forward and rolls them back; [`preflight`] is the checks;
//! [`host`], [`state`] and [`journal`] are the host model.
//!
//! A newcomer looking for where a step of the installer lives finds it by
//! its name under `steps/`: `stage`, `backup`, `migrate`, `services`,
//! `rpms`, `configs`, `health`, `commit`, `cleanup`.

pub mod adoption;
pub mod atomic;
pub mod capture;
pub mod chain;
pub mod children;
pub mod cli;
pub mod error;
pub mod fault;
pub mod health;
pub mod history;
pub mod host;
pub mod hostfs;
pub mod interrupt;
pub mod journal;
pub mod lock;
pub mod log;
pub mod operation;
pub mod ops;
pub mod package;
pub mod plan;
pub mod preflight;
pub mod recovery;
pub mod report;
pub mod route;
pub mod rpm_sources;
pub mod rpmdb;
pub mod runner;
pub mod services;
pub mod session;
pub mod state;
pub mod steps;
pub mod terminal;
pub mod trust;
