//! The watermark of a merge (a union, a join): the minimum of its inputs', skipping
//! inputs that have gone idle.

/// Combines the watermarks of several inputs.
///
/// Each input reports its watermark as it advances; the combined watermark is the least of
/// the inputs that are not idle, and never moves back. An input with an idleness timeout
/// that has reported nothing for that long is left out, so a quiet source does not hold
/// back every window downstream forever. An input that has not reported at all has not
/// started (its source has not been read yet) and is never idle: otherwise all its records
/// would be late. If every input is idle the watermark stays put.
#[derive(Debug, Clone)]
pub struct CombinedWatermark {
    inputs: Vec<InputWatermark>,
    current: i64,
}

#[derive(Debug, Clone)]
struct InputWatermark {
    watermark: i64,
    idle_after: Option<i64>,
    last_update: i64,
    started: bool,
}

impl CombinedWatermark {
    /// A merge of inputs with these idleness timeouts, starting at processing time `now`.
    pub fn new(idle_after: &[Option<i64>], now: i64) -> Self {
        CombinedWatermark {
            inputs: idle_after
                .iter()
                .map(|&idle_after| InputWatermark {
                    watermark: super::MIN_WATERMARK,
                    idle_after,
                    last_update: now,
                    started: false,
                })
                .collect(),
            current: super::MIN_WATERMARK,
        }
    }

    /// Input `port` reports watermark `wm` at processing time `now`; returns the combined
    /// watermark if it advanced.
    pub fn update(&mut self, port: usize, wm: i64, now: i64) -> Option<i64> {
        if let Some(input) = self.inputs.get_mut(port) {
            input.watermark = input.watermark.max(wm);
            input.last_update = now;
            input.started = true;
        }
        self.recompute(now)
    }

    /// Re-evaluates idleness at `now` without a new report.
    pub fn recompute(&mut self, now: i64) -> Option<i64> {
        let active = self.inputs.iter().filter(|i| {
            let idle = i.started
                && i.idle_after.is_some_and(|after| {
                    i.watermark < super::MAX_WATERMARK && now.saturating_sub(i.last_update) >= after
                });
            !idle
        });
        let min = active.map(|i| i.watermark).min()?;
        (min > self.current).then(|| {
            self.current = min;
            min
        })
    }

    /// The combined watermark.
    pub fn current(&self) -> i64 {
        self.current
    }
}

/// In a checkpoint: each input's watermark and whether it has started, and the combined
/// one. Idleness is processing time, which starts again with the run that resumes.
impl crate::checkpoint::Checkpointed for CombinedWatermark {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), crate::JobError> {
        out.i64(self.current);
        out.u64(self.inputs.len() as u64);
        for input in &self.inputs {
            out.i64(input.watermark);
            out.bool(input.started);
        }
        Ok(())
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), crate::JobError> {
        self.current = from.i64()?;
        if from.u64()? != self.inputs.len() as u64 {
            return Err(crate::JobError::CheckpointMismatch(
                "an operator's number of inputs differs".to_string(),
            ));
        }
        for input in &mut self.inputs {
            input.watermark = from.i64()?;
            input.started = from.bool()?;
        }
        Ok(())
    }

    /// An operator's inputs on another number of workers: each input the highest any
    /// worker had.
    fn load_rescaled(
        &mut self,
        parts: &mut [crate::checkpoint::StateIn<'_>],
        _: &crate::checkpoint::Rescale,
    ) -> Result<(), crate::JobError> {
        let mut merged = self.clone();
        for (i, part) in parts.iter_mut().enumerate() {
            let mut one = self.clone();
            one.load(part)?;
            if i == 0 {
                merged = one;
                continue;
            }
            merged.current = merged.current.max(one.current);
            for (m, o) in merged.inputs.iter_mut().zip(&one.inputs) {
                m.watermark = m.watermark.max(o.watermark);
                m.started |= o.started;
            }
        }
        *self = merged;
        Ok(())
    }
}

impl CombinedWatermark {
    /// The combined watermark a checkpoint saved in `from`, whatever its inputs: for an
    /// exchange restored on another number of workers, which has other senders.
    pub(crate) fn saved_current(
        from: &mut crate::checkpoint::StateIn<'_>,
    ) -> Result<i64, crate::JobError> {
        let current = from.i64()?;
        for _ in 0..from.u64()? {
            from.i64()?;
            from.bool()?;
        }
        Ok(current)
    }

    /// Every input at `wm`, as if each had sent it.
    pub(crate) fn set_all(&mut self, wm: i64) {
        self.current = wm;
        for input in &mut self.inputs {
            input.watermark = wm;
            input.started = wm > i64::MIN;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimum_of_the_inputs() {
        let mut c = CombinedWatermark::new(&[None, None], 0);
        assert_eq!(
            c.update(0, 100, 0),
            None,
            "the other input has said nothing"
        );
        assert_eq!(c.update(1, 50, 0), Some(50));
        assert_eq!(c.update(1, 200, 0), Some(100));
        assert_eq!(c.update(0, 90, 0), None, "never moves back");
        assert_eq!(c.current(), 100);
    }

    #[test]
    fn an_idle_input_is_skipped_until_it_speaks() {
        let mut c = CombinedWatermark::new(&[None, Some(30_000)], 0);
        assert_eq!(c.update(1, 50, 0), None, "input 0 has said nothing");
        assert_eq!(
            c.update(0, 100, 10_000),
            Some(50),
            "input 1 is not idle yet"
        );
        assert_eq!(
            c.update(0, 150, 30_000),
            Some(150),
            "input 1 has been quiet 30 s"
        );
        assert_eq!(
            c.update(1, 120, 31_000),
            None,
            "back, but behind: no move back"
        );
        assert_eq!(c.update(0, 400, 32_000), None, "input 1 holds it again");
        assert_eq!(c.update(1, 300, 33_000), Some(300));
    }

    #[test]
    fn an_input_that_has_not_started_is_never_idle() {
        // A source may not have started while another runs (one without event time is read
        // first, to its end), however long that takes.
        let mut c = CombinedWatermark::new(&[None, Some(10)], 0);
        assert_eq!(c.update(0, 100, 1_000_000), None);
        assert_eq!(c.update(0, super::super::MAX_WATERMARK, 2_000_000), None);
        assert_eq!(c.update(1, 70, 2_000_001), Some(70));
    }

    #[test]
    fn all_idle_holds_the_watermark() {
        let mut c = CombinedWatermark::new(&[Some(10), Some(10)], 0);
        assert_eq!(c.update(0, 5, 0), None);
        assert_eq!(c.update(1, 6, 0), Some(5));
        assert_eq!(c.recompute(1_000), None);
        assert_eq!(c.current(), 5);
    }
}
