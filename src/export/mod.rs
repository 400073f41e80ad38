//! Writing specs in other formats.

pub mod openapi;
