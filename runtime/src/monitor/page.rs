//! The live page: one HTML document with its script and style, polling `/api/job`.

/// The page served at `/`.
pub const PAGE: &str = include_str!("page.html");
