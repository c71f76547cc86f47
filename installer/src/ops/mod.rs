//! One module per `hop-install` verb, each a few plain functions over the
//! host model.

pub mod verify;
