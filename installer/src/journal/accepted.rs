//! A check result the operator accepted (`--accept ID --reason TEXT`), as
//! the operation, history and report record it.

use serde::{Deserialize, Serialize};

/// A check result the operator accepted, as the operation records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The check's id.
    pub id: String,
    /// WARNING or FAILURE.
    pub result: String,
    /// What the check said.
    pub details: String,
    /// Why the operator accepted it.
    pub reason: String,
    /// Who ran hop (`SUDO_USER`, else `USER`, else the uid).
    pub by: String,
}
