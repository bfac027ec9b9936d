//! The rules of a source's time that both front-ends follow: a watermark comes with event
//! time, and event time without one is ascending. The front-ends read `event_time(...)`,
//! `watermark(...)` and `idle(...)` in their own syntax and hand them here.

use crate::diagnostics::Diagnostic;
use crate::ir::{EventTime, WatermarkSpec};

/// The event time a source declares: `time` (its timestamp, read by the front-end, with
/// its idleness) under `watermark` (ascending when none is given), or an error at the
/// watermark when there is no event time for it to follow. `add_event_time` says, in the
/// front-end's syntax, how to declare it.
pub fn source_event_time<S>(
    time: Option<EventTime>,
    watermark: Option<(WatermarkSpec, S)>,
    add_event_time: &str,
) -> Result<Option<EventTime>, Diagnostic<S>> {
    match (time, watermark) {
        (Some(time), w) => Ok(Some(EventTime {
            watermark: w.map_or(WatermarkSpec::Ascending, |(w, _)| w),
            ..time
        })),
        (None, Some((_, at))) => Err(Diagnostic::error(
            "a watermark needs event time",
            at,
            "no event_time(...) on this source",
        )
        .with_help(add_event_time.to_string())),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time() -> EventTime {
        EventTime {
            field: 2,
            field_name: "ts".into(),
            rust: None,
            watermark: WatermarkSpec::Bounded(1),
            idle: Some(30),
        }
    }

    #[test]
    fn a_watermark_follows_event_time_and_defaults_to_ascending() {
        let t = source_event_time(Some(time()), None::<(WatermarkSpec, ())>, "")
            .unwrap()
            .unwrap();
        assert_eq!(t.watermark, WatermarkSpec::Ascending);
        assert_eq!(t.idle, Some(30));
        let t = source_event_time(Some(time()), Some((WatermarkSpec::Bounded(5), ())), "")
            .unwrap()
            .unwrap();
        assert_eq!(t.watermark, WatermarkSpec::Bounded(5));
        let e =
            source_event_time(None, Some((WatermarkSpec::Bounded(5), 7..9)), "add it").unwrap_err();
        assert_eq!(e.message, "a watermark needs event time");
        assert_eq!(e.span, 7..9);
        assert!(source_event_time(None, None::<(WatermarkSpec, ())>, "")
            .unwrap()
            .is_none());
    }
}
