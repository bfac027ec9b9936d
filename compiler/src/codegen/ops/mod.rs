//! Code generation per operator kind, one module each.

pub mod aggregate;
pub mod filter;
pub mod flat_map;
pub mod map;
pub mod sink;
pub mod source;
pub mod union;
pub mod window;
