//! Writing specs in other formats.

mod implied;
pub mod openapi;
mod request;
