//! One module per `hop-install` verb, each a few plain functions over the
//! host model; `parts/` holds what several verbs share.

pub mod apply;
pub mod check;
pub mod db_diff;
pub mod db_status;
pub mod history;
pub mod parts;
pub mod path;
pub mod rehearse;
pub mod resume;
pub mod rollback;
pub mod status;
pub mod upgrade;
pub mod verify;
