//! The rules of a source's time that both front-ends follow: a watermark comes with event
//! time, and event time comes with a watermark strategy the user chose (as Flink asks for
//! one): a default of `ascending` silently dropped records of data out of order. The
//! front-ends read `event_time(...)`, `watermark(...)` and `idle(...)` in their own syntax
//! and hand them here.

use crate::diagnostics::Diagnostic;
use crate::ir::{EventTime, WatermarkSpec};

/// The event time a source declares: `time` (its timestamp, read by the front-end, with
/// its idleness, and where it is written) under `watermark`; an error at the event time
/// when it has no watermark, or at the watermark when there is no event time for it to
/// follow. `add_event_time` says, in the front-end's syntax, how to declare it.
pub fn source_event_time<S>(
    time: Option<(EventTime, S)>,
    watermark: Option<(WatermarkSpec, S)>,
    add_event_time: &str,
) -> Result<Option<EventTime>, Diagnostic<S>> {
    match (time, watermark) {
        (Some((time, _)), Some((w, _))) => Ok(Some(EventTime {
            watermark: w,
            ..time
        })),
        (Some((_, at)), None) => Err(Diagnostic::error(
            "event time needs a watermark strategy",
            at,
            "no watermark(...) on this source",
        )
        .with_help(
            "say how late its records may come: `watermark(ascending)` if event time never \
             decreases, or `watermark(bounded 5s)` if records arrive out of order by up to \
             five seconds (a record later than that is dropped as late)",
        )),
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
    fn event_time_and_a_watermark_come_together() {
        let t = source_event_time(
            Some((time(), 1..2)),
            Some((WatermarkSpec::Bounded(5), 3..4)),
            "",
        )
        .unwrap()
        .unwrap();
        assert_eq!((t.watermark, t.idle), (WatermarkSpec::Bounded(5), Some(30)));
        let e = source_event_time(Some((time(), 1..2)), None, "").unwrap_err();
        assert_eq!(e.message, "event time needs a watermark strategy");
        assert_eq!(e.span, 1..2);
        assert!(e.help.unwrap().contains("watermark(bounded 5s)"));
        let e =
            source_event_time(None, Some((WatermarkSpec::Bounded(5), 7..9)), "add it").unwrap_err();
        assert_eq!(e.message, "a watermark needs event time");
        assert_eq!(e.span, 7..9);
        assert!(
            source_event_time(None, None::<(WatermarkSpec, std::ops::Range<u32>)>, "")
                .unwrap()
                .is_none()
        );
    }
}
