//! What several verbs share, not verbs themselves: fetching a remote
//! package (`fetch`), the path from a package to an operation that apply
//! and each hop of upgrade take (`prepare`), and the decisions of a
//! rolling hop's parts (`rolling`).

pub mod fetch;
pub mod prepare;
pub mod rolling;
