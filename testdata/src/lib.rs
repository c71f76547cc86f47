//! # hop-testdata
//!
//! Fixtures made by code, not committed as blobs: real RPMs of the demo
//! product `manager` (built with the `rpm` crate), its release tree for the
//! manifests in `manifests/`, built-once test packages and keys, a kit for
//! crafting hostile packages, and — for the installer's tests and the demo —
//! whole sandbox manager hosts in a directory.

pub mod cluster;
pub mod container;
pub mod craft;
pub mod db;
pub mod fixtures;
pub mod golden;
pub mod oplog;
pub mod output;
pub mod product;
pub mod refusals;
pub mod rpms;
pub mod sandbox;
pub mod servers;
