//! Time: the processing-time clock, watermark generators at sources, and the combined
//! watermark where streams merge.
//!
//! Event time is milliseconds since the Unix epoch in an `i64`, as `timestamp` fields are. A
//! watermark `w` says that no more records with a timestamp `<= w` are expected; a record at
//! or below the current watermark is late.

mod clock;
mod combined;
pub mod text;
mod unit;
mod watermark;

pub use clock::{Clock, ClockMode};
pub use combined::CombinedWatermark;
pub use unit::{
    duration_text, look_like_seconds, warn_if_seconds, TimeUnit, SECONDS_LOOK_LIKE_BEFORE,
};
pub use watermark::{WatermarkGenerator, WatermarkStrategy};

/// The watermark before any record: nothing is known yet.
pub const MIN_WATERMARK: i64 = i64::MIN;
/// The watermark at end of input: every window fires.
pub const MAX_WATERMARK: i64 = i64::MAX;

/// The earliest event time a record may carry: -2^62 ms, about 146 million years before
/// 1970. A record outside [`MIN_TIMESTAMP`], [`MAX_TIMESTAMP`] is a bad record of its
/// source. Together with [`MAX_DURATION`], this range keeps all window arithmetic (a
/// window's start and end, plus allowed lateness) inside `i64`.
pub const MIN_TIMESTAMP: i64 = -(1 << 62);
/// The latest event time a record may carry: 2^62 - 1 ms.
pub const MAX_TIMESTAMP: i64 = (1 << 62) - 1;
/// The longest duration a pipeline may write (window sizes, slides, gaps, lateness,
/// watermark bounds, idleness): 2^60 ms, about 36 million years.
pub const MAX_DURATION: i64 = 1 << 60;

/// `value`, an event time written in `unit`, in milliseconds if it is a valid event time,
/// else why not.
#[inline]
pub fn valid_timestamp_in(value: i64, unit: TimeUnit) -> Result<i64, String> {
    match unit.to_millis(value) {
        Some(ms) => valid_timestamp(ms),
        None => Err(format!(
            "event time {value} {} is outside the range weir accepts ({MIN_TIMESTAMP} to {MAX_TIMESTAMP} ms since the epoch)",
            unit.name()
        )),
    }
}

/// `ts` if it is a valid event time, else why not.
#[inline]
pub fn valid_timestamp(ts: i64) -> Result<i64, String> {
    if (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&ts) {
        Ok(ts)
    } else {
        Err(format!(
            "event time {ts} is outside the range weir accepts ({MIN_TIMESTAMP} to {MAX_TIMESTAMP} ms since the epoch)"
        ))
    }
}
