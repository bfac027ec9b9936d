//! A source's options (`on_error`, `event_time`, `watermark`, `idle`, `follow`), ruled once
//! for both front-ends: each is given at most once, an unknown one is named with a
//! suggestion, `follow` only on a file, and together they make the source's bad-record
//! policy, event time (with the rules of `source_time.rs`) and whether it follows its file. A front-end reads each option's arguments in its own syntax (a field
//! name or a closure, a duration literal) and hands them here.

use super::source_time::source_event_time;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::ir::{EventTime, InputLocation, OnError, TimeUnit, WatermarkSpec};

/// The names of a source's options.
pub const SOURCE_OPTIONS: &[&str] = &[
    "on_error",
    "event_time",
    "watermark",
    "idle",
    "follow",
    "time_unit",
];

/// What `time_unit(...)` takes, for its error in either front-end.
pub const TIME_UNIT_FORMS: &str =
    "time_unit takes seconds, milliseconds, microseconds or nanoseconds (or s, ms, us, ns)";

/// What a source's options make of it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSettings {
    /// The bad-record policy.
    pub on_error: OnError,
    /// Event time, if declared.
    pub event_time: Option<EventTime>,
    /// Whether the source follows its file as it grows (`follow`).
    pub follow: bool,
    /// The unit its timestamps are written in (`time_unit(...)`).
    pub time_unit: TimeUnit,
}

/// What one option says, as its front-end read it.
#[derive(Debug, Clone)]
pub enum SourceOption {
    /// `on_error(policy)`.
    OnError(OnError),
    /// `event_time(...)`: the record's timestamp (a field, or a closure); its watermark
    /// and idleness are filled in here.
    EventTime(EventTime),
    /// `watermark(...)`: its kind (`None` when only idleness is given, which is refused),
    /// and the idleness `.pipe` may give inside it.
    Watermark(Option<WatermarkSpec>, Option<i64>),
    /// `idle(duration)`.
    Idle(i64),
    /// `follow`: read the file as it grows, until the job is stopped.
    Follow,
    /// `time_unit(seconds)`: the unit the source's timestamps are written in.
    TimeUnit(TimeUnit),
}

/// One option as written: its name, where it and its name are, and what the front-end
/// read of its arguments (`None` when it could not: the front-end has said why).
#[derive(Debug, Clone)]
pub struct WrittenOption<S> {
    /// The option's name.
    pub name: String,
    /// Where the whole option is written.
    pub at: S,
    /// Where its name is written.
    pub name_at: S,
    /// Its arguments, read.
    pub value: Option<SourceOption>,
}

/// How a front-end writes what the rules' messages mention.
#[derive(Debug, Clone, Copy)]
pub struct OptionForms<'a> {
    /// Every option, in the front-end's syntax, for the help of an unknown one.
    pub all: &'a str,
    /// How to declare event time, for the help of an option that needs it.
    pub event_time: &'a str,
}

/// The settings `options` make for a source reading `input`, or every mistake in them.
pub fn source_options<S: Clone>(
    options: Vec<WrittenOption<S>>,
    input: &InputLocation,
    forms: OptionForms<'_>,
) -> Result<SourceSettings, Vec<Diagnostic<S>>> {
    let mut gathered = Gathered::new();
    for option in options {
        gathered.take(option, input, &forms);
    }
    gathered.settings(&forms)
}

/// What a source's options say, gathered one at a time, with the mistakes found so far.
struct Gathered<S> {
    errors: Vec<Diagnostic<S>>,
    /// Each option given so far, where.
    seen: Vec<(String, S)>,
    on_error: OnError,
    time: Option<(EventTime, S)>,
    watermark: Option<(WatermarkSpec, S)>,
    idle: Option<(i64, S)>,
    follow: bool,
    time_unit: TimeUnit,
    /// An event time or a watermark that could not be read (already reported).
    unread_time: bool,
    unread_watermark: bool,
    /// Every option's value could be read.
    read_all: bool,
}

impl<S: Clone> Gathered<S> {
    fn new() -> Self {
        Gathered {
            errors: Vec::new(),
            seen: Vec::new(),
            on_error: OnError::Fail,
            time: None,
            watermark: None,
            idle: None,
            follow: false,
            time_unit: TimeUnit::Milliseconds,
            unread_time: false,
            unread_watermark: false,
            read_all: true,
        }
    }

    /// Takes `option` in, or notes why it cannot be: given twice, unknown, unread.
    fn take(&mut self, option: WrittenOption<S>, input: &InputLocation, forms: &OptionForms<'_>) {
        if let Some((_, first)) = self.seen.iter().find(|(name, _)| *name == option.name) {
            self.errors.push(
                Diagnostic::error(
                    format!("`{}` is given twice", option.name),
                    option.at.clone(),
                    "given again here",
                )
                .with_related(first.clone(), "first given here")
                .with_help("give each option once"),
            );
            return;
        }
        self.seen.push((option.name.clone(), option.at.clone()));
        if !SOURCE_OPTIONS.contains(&option.name.as_str()) {
            self.errors.push(
                Diagnostic::error(
                    format!("unknown source option `{}`", option.name),
                    option.name_at.clone(),
                    "not an option",
                )
                .with_help(format!("sources take {}", forms.all))
                .with_help_opt(did_you_mean(&option.name, SOURCE_OPTIONS.iter().copied())),
            );
            return;
        }
        let Some(value) = option.value else {
            self.read_all = false;
            self.unread_time |= option.name == "event_time";
            self.unread_watermark |= option.name == "watermark";
            return;
        };
        self.value(value, option.at, input);
    }

    /// Takes in an option's value, given at `at`.
    fn value(&mut self, value: SourceOption, at: S, input: &InputLocation) {
        match value {
            SourceOption::OnError(p) => self.on_error = p,
            SourceOption::EventTime(t) => self.time = Some((t, at)),
            SourceOption::Watermark(spec, inner_idle) => {
                let Some(spec) = spec else {
                    self.unread_watermark = true;
                    self.errors.push(
                        Diagnostic::error("a watermark needs a strategy", at, "only idleness given")
                            .with_help("add `ascending` or `bounded <duration>`, as in `watermark(bounded 5s, idle 30s)`"),
                    );
                    return;
                };
                self.watermark = Some((spec, at.clone()));
                if let Some(ms) = inner_idle {
                    self.idle = Some((ms, at));
                }
            }
            SourceOption::Idle(ms) => {
                if let Some((_, first)) = &self.idle {
                    self.errors.push(
                        Diagnostic::error("the idle time is given twice", at, "given again here")
                            .with_related(first.clone(), "first given inside the watermark")
                            .with_help("give it once, in `idle(...)` or in the watermark"),
                    );
                    return;
                }
                self.idle = Some((ms, at));
            }
            SourceOption::TimeUnit(unit) => self.time_unit = unit,
            SourceOption::Follow => match input {
                InputLocation::Path(_) => self.follow = true,
                InputLocation::Stdin | InputLocation::Program | InputLocation::Generated => self.errors.push(
                    Diagnostic::error(
                        "only a file can be followed",
                        at,
                        match input {
                            InputLocation::Stdin => "this source reads standard input",
                            InputLocation::Generated => "this source's events are generated",
                            _ => "this source reads the program's values",
                        },
                    )
                    .with_help(
                        "`follow` reads a file as it grows, as `tail -f` does; standard input is read as it comes already",
                    ),
                ),
            },
        }
    }

    /// The settings, once every option is in: the event-time rules checked together.
    fn settings(mut self, forms: &OptionForms<'_>) -> Result<SourceSettings, Vec<Diagnostic<S>>> {
        if let (None, Some((_, at))) = (&self.time, &self.idle) {
            self.errors.push(
                Diagnostic::error(
                    "idleness needs event time",
                    at.clone(),
                    "no event_time(...) on this source",
                )
                .with_help(format!(
                    "a source is idle when its watermark stops moving; {}",
                    forms.event_time
                )),
            );
        }
        let idle = self.idle.map(|(ms, _)| ms);
        let time = self.time.map(|(t, at)| (EventTime { idle, ..t }, at));
        // An event time or a watermark that could not be read has been reported: the other
        // is not reported again for lacking it.
        let watermark = self.watermark.filter(|_| !self.unread_time);
        let time = time.filter(|_| !self.unread_watermark);
        let mut errors = self.errors;
        let event_time =
            source_event_time(time, watermark, forms.event_time).map_err(|d| errors.push(d));
        match event_time {
            Ok(event_time) if errors.is_empty() && self.read_all => Ok(SourceSettings {
                on_error: self.on_error,
                event_time,
                follow: self.follow,
                time_unit: self.time_unit,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMS: OptionForms<'static> = OptionForms {
        all: "on_error, event_time, watermark and idle",
        event_time: "add event_time",
    };

    fn option(name: &str, at: u32, value: Option<SourceOption>) -> WrittenOption<u32> {
        WrittenOption {
            name: name.into(),
            at,
            name_at: at,
            value,
        }
    }

    fn time() -> SourceOption {
        SourceOption::EventTime(EventTime {
            field: 1,
            field_name: "ts".into(),
            rust: None,
            watermark: WatermarkSpec::Ascending,
            idle: None,
        })
    }

    fn file() -> InputLocation {
        InputLocation::Path("in.csv".into())
    }

    fn messages(r: Result<SourceSettings, Vec<Diagnostic<u32>>>) -> Vec<String> {
        r.expect_err("mistakes")
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn options_make_the_policy_and_the_event_time() {
        let made = source_options(
            vec![
                option("on_error", 1, Some(SourceOption::OnError(OnError::Skip))),
                option("event_time", 2, Some(time())),
                option(
                    "watermark",
                    3,
                    Some(SourceOption::Watermark(
                        Some(WatermarkSpec::Bounded(5)),
                        None,
                    )),
                ),
                option("idle", 4, Some(SourceOption::Idle(30))),
                option("follow", 5, Some(SourceOption::Follow)),
            ],
            &file(),
            FORMS,
        )
        .unwrap();
        assert_eq!((made.on_error, made.follow), (OnError::Skip, true));
        let t = made.event_time.unwrap();
        assert_eq!((t.watermark, t.idle), (WatermarkSpec::Bounded(5), Some(30)));
        let made = source_options(
            vec![
                option("event_time", 2, Some(time())),
                option(
                    "watermark",
                    3,
                    Some(SourceOption::Watermark(
                        Some(WatermarkSpec::Ascending),
                        Some(7),
                    )),
                ),
                option(
                    "time_unit",
                    4,
                    Some(SourceOption::TimeUnit(TimeUnit::Seconds)),
                ),
            ],
            &file(),
            FORMS,
        )
        .unwrap();
        assert!(!made.follow);
        assert_eq!(made.time_unit, TimeUnit::Seconds);
        let t = made.event_time.unwrap();
        assert_eq!((t.watermark, t.idle), (WatermarkSpec::Ascending, Some(7)));
    }

    #[test]
    fn every_mistake_is_named() {
        let r = source_options(
            vec![
                option("on_error", 1, Some(SourceOption::OnError(OnError::Skip))),
                option("on_error", 2, Some(SourceOption::OnError(OnError::Fail))),
                option("watermak", 3, None),
                option("idle", 4, Some(SourceOption::Idle(30))),
                option("follow", 5, Some(SourceOption::Follow)),
            ],
            &InputLocation::Stdin,
            FORMS,
        );
        assert_eq!(
            messages(r),
            [
                "`on_error` is given twice",
                "unknown source option `watermak`",
                "only a file can be followed",
                "idleness needs event time"
            ]
        );
        let bounded = Some(WatermarkSpec::Bounded(1));
        let r = source_options(
            vec![
                option(
                    "watermark",
                    1,
                    Some(SourceOption::Watermark(bounded, Some(3))),
                ),
                option("idle", 2, Some(SourceOption::Idle(4))),
            ],
            &file(),
            FORMS,
        );
        assert_eq!(
            messages(r),
            [
                "the idle time is given twice",
                "idleness needs event time",
                "a watermark needs event time"
            ]
        );
        // Event time needs a watermark that says how late records may come.
        let r = source_options(vec![option("event_time", 1, Some(time()))], &file(), FORMS);
        assert_eq!(messages(r), ["event time needs a watermark strategy"]);
        let r = source_options(
            vec![
                option("event_time", 1, Some(time())),
                option("watermark", 2, Some(SourceOption::Watermark(None, Some(3)))),
            ],
            &file(),
            FORMS,
        );
        assert_eq!(messages(r), ["a watermark needs a strategy"]);
        // An option whose arguments the front-end could not read fails with no word here.
        let r = source_options(vec![option("event_time", 1, None)], &file(), FORMS);
        assert!(messages(r).is_empty());
    }
}
