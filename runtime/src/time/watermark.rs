//! Watermark generation at a source, from the timestamps it reads.

use super::{MAX_WATERMARK, MIN_WATERMARK};

/// How a source derives watermarks from timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatermarkStrategy {
    /// Records may arrive up to this many milliseconds out of order: the watermark trails
    /// the largest timestamp seen by that much (Flink's bounded out-of-orderness).
    Bounded(i64),
    /// Timestamps never decrease: the watermark is just below the largest seen.
    Ascending,
}

/// Tracks one source's watermark and whether it has gone idle.
///
/// As in Flink, the watermark after seeing largest timestamp `t` is `t - delay - 1`: a
/// record at exactly `t - delay` is still on time. A source with an idleness timeout that
/// has produced nothing for that long (in processing time) is idle: merges ignore it until
/// it produces again.
#[derive(Debug, Clone)]
pub struct WatermarkGenerator {
    delay: i64,
    max_ts: i64,
    current: i64,
    idle_after: Option<i64>,
    last_activity: i64,
}

impl WatermarkGenerator {
    /// A generator with `strategy`, idle after `idle_after` ms without records if given,
    /// starting at processing time `now`.
    pub fn new(strategy: WatermarkStrategy, idle_after: Option<i64>, now: i64) -> Self {
        let delay = match strategy {
            WatermarkStrategy::Bounded(d) => d.max(0),
            WatermarkStrategy::Ascending => 0,
        };
        WatermarkGenerator {
            delay,
            max_ts: MIN_WATERMARK,
            current: MIN_WATERMARK,
            idle_after,
            last_activity: now,
        }
    }

    /// Sees a record at event time `ts` (processing time `now`); returns the new watermark
    /// if it advanced.
    #[inline]
    pub fn on_event(&mut self, ts: i64, now: i64) -> Option<i64> {
        self.last_activity = now;
        if ts <= self.max_ts {
            return None;
        }
        self.max_ts = ts;
        let wm = ts.saturating_sub(self.delay).saturating_sub(1);
        (wm > self.current).then(|| {
            self.current = wm;
            wm
        })
    }

    /// Sees a record without asking about the watermark (for processing-time idleness only).
    #[inline]
    pub fn touch(&mut self, now: i64) {
        self.last_activity = now;
    }

    /// The largest event time seen (`MIN_WATERMARK` before any).
    pub fn largest(&self) -> i64 {
        self.max_ts
    }

    /// The current watermark.
    pub fn current(&self) -> i64 {
        self.current
    }

    /// Whether the source has been silent for its idleness timeout at `now`.
    pub fn is_idle(&self, now: i64) -> bool {
        self.idle_after
            .is_some_and(|after| now.saturating_sub(self.last_activity) >= after)
    }

    /// End of input: the watermark jumps to the end of time.
    pub fn end_of_input(&mut self) -> i64 {
        self.current = MAX_WATERMARK;
        self.current
    }
}

/// In a checkpoint: the largest timestamp seen and the watermark. Idleness is processing
/// time, which starts again with the run that resumes.
impl crate::checkpoint::Checkpointed for WatermarkGenerator {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), crate::JobError> {
        out.i64(self.max_ts);
        out.i64(self.current);
        Ok(())
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), crate::JobError> {
        self.max_ts = from.i64()?;
        self.current = from.i64()?;
        Ok(())
    }

    fn live(&self) -> Option<crate::monitor::LivePart> {
        // Before the first record there is no watermark to show.
        (self.current != i64::MIN).then_some(crate::monitor::LivePart::Watermark(self.current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_trails_the_largest_timestamp() {
        let mut g = WatermarkGenerator::new(WatermarkStrategy::Bounded(2_000), None, 0);
        assert_eq!(g.on_event(10_000, 0), Some(7_999));
        assert_eq!(
            g.on_event(9_000, 0),
            None,
            "an older record does not move it"
        );
        assert_eq!(g.on_event(10_000, 0), None, "an equal one neither");
        assert_eq!(g.on_event(12_500, 0), Some(10_499));
        assert_eq!(g.current(), 10_499);
        assert_eq!(g.end_of_input(), MAX_WATERMARK);
    }

    #[test]
    fn ascending_is_just_below_the_largest_timestamp() {
        let mut g = WatermarkGenerator::new(WatermarkStrategy::Ascending, None, 0);
        assert_eq!(g.on_event(5, 0), Some(4));
        assert_eq!(g.on_event(6, 0), Some(5));
        assert_eq!(g.on_event(6, 0), None);
    }

    #[test]
    fn idleness_is_processing_time_without_records() {
        let mut g = WatermarkGenerator::new(WatermarkStrategy::Ascending, Some(30_000), 1_000);
        assert!(!g.is_idle(30_999));
        assert!(g.is_idle(31_000));
        g.on_event(5, 40_000);
        assert!(!g.is_idle(40_000));
        let never = WatermarkGenerator::new(WatermarkStrategy::Ascending, None, 0);
        assert!(!never.is_idle(i64::MAX));
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let mut g = WatermarkGenerator::new(WatermarkStrategy::Bounded(10), None, 0);
        assert_eq!(g.on_event(i64::MIN + 3, 0), None);
        assert!(g.on_event(i64::MAX, 0).is_some());
    }
}
