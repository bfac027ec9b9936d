//! Time: the processing-time clock, watermark generators at sources, and the combined
//! watermark where streams merge.
//!
//! Event time is milliseconds since the Unix epoch in an `i64`, as `timestamp` fields are. A
//! watermark `w` says that no more records with a timestamp `<= w` are expected; a record at
//! or below the current watermark is late.

mod clock;
mod combined;
mod watermark;

pub use clock::Clock;
pub use combined::CombinedWatermark;
pub use watermark::{WatermarkGenerator, WatermarkStrategy};

/// The watermark before any record: nothing is known yet.
pub const MIN_WATERMARK: i64 = i64::MIN;
/// The watermark at end of input: every window fires.
pub const MAX_WATERMARK: i64 = i64::MAX;
