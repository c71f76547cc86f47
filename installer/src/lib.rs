//! # hop-installer
//!
//! The operations behind `hop-install`. [`cli`] parses the command line;
//! [`ops`] holds one module per verb; [`host`] is the host model.

pub mod cli;
pub mod error;
pub mod host;
pub mod ops;
