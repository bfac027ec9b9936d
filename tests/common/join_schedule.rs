//! The order a job reads two sources in, and the join's watermark before each record: the
//! model the join tests' references are computed from.
//!
//! Several sources are read interleaved by event time: up to `BATCH` records at a time from
//! the open source whose watermark is lowest (ties to the first declared). A source's
//! watermark is `max ts - bound - 1` (bounded disorder); the join's is the least of its two
//! inputs', `i64::MIN` for an input that has said nothing yet and the end of time for one
//! that has ended.

/// Records the run loop reads from one source before it picks again.
pub const BATCH: usize = 256;

/// One record as the join sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// 0 for the source declared first, 1 for the other.
    pub source: usize,
    /// Its index in its source.
    pub index: usize,
    /// The join's watermark when it arrives.
    pub watermark: i64,
}

/// The arrivals of two sources whose records have times `times[0]` and `times[1]`, both
/// with watermarks bounded by `bound` ms.
pub fn arrivals(times: [&[i64]; 2], bound: i64) -> Vec<Arrival> {
    let mut source_wm = [i64::MIN; 2];
    let mut port_wm = [i64::MIN; 2];
    let mut next = [0usize; 2];
    let mut open = [true; 2];
    let mut joined = i64::MIN;
    let mut out = Vec::new();
    loop {
        let pick = (0..2)
            .filter(|&s| open[s])
            .min_by_key(|&s| (source_wm[s], s));
        let Some(s) = pick else { break };
        for _ in 0..BATCH {
            let Some(&ts) = times[s].get(next[s]) else {
                open[s] = false;
                port_wm[s] = i64::MAX;
                joined = joined.max(port_wm[0].min(port_wm[1]));
                break;
            };
            out.push(Arrival {
                source: s,
                index: next[s],
                watermark: joined,
            });
            next[s] += 1;
            let wm = ts.saturating_sub(bound).saturating_sub(1);
            if wm > source_wm[s] {
                source_wm[s] = wm;
                port_wm[s] = wm;
                joined = joined.max(port_wm[0].min(port_wm[1]));
            }
        }
    }
    out
}
