//! One module per `hop-install` verb, each a few plain functions over the
//! host model.

pub mod apply;
pub mod check;
pub mod check_html;
pub mod cluster_status;
pub mod db_diff;
pub mod db_status;
pub mod fetch;
pub mod history;
pub mod path;
pub mod prepare;
pub mod rehearse;
pub mod resume;
pub mod rollback;
pub mod rolling;
pub mod status;
pub mod upgrade;
pub mod verify;
