//! A `nexmark(...)` source, ruled once for both front-ends: which stream it reads
//! (`person`, `auction` or `bid`), the run's settings, the stream's schema (Nexmark's
//! standard fields) and its event time (`date_time`, with a watermark that covers the
//! generator's disorder unless one is given).

use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::ir::{EventTime, Field, Schema, Type, WatermarkSpec};
use crate::lower::{SourceOption, WrittenOption};
use weir_runtime::nexmark::{EventKind, NexmarkSpec};

/// The settings a `nexmark(...)` source takes, by name.
pub const NEXMARK_SETTINGS: &[&str] = &[
    "events",
    "rate",
    "seed",
    "persons",
    "auctions",
    "bids",
    "active_people",
    "in_flight_auctions",
    "out_of_order",
    "base_time",
];

/// What a `nexmark(...)` source takes, for its errors.
pub const NEXMARK_FORMS: &str = "nexmark takes the stream (person, auction or bid), then any of \
     events, rate, seed, persons, auctions, bids, active_people, in_flight_auctions, \
     out_of_order and base_time, each a whole number";

/// One setting as written: its name, where it is, and its value (`None` when the
/// front-end could not read it as a whole number: it has said why).
#[derive(Debug, Clone)]
pub struct NexmarkSetting<S> {
    /// The setting's name.
    pub name: String,
    /// Where it is written.
    pub at: S,
    /// Its value.
    pub value: Option<u64>,
}

/// The stream and settings a `nexmark(...)` source gives: `stream` is its first argument
/// (the word and where it is; `None` when there is none, reported at `call`).
pub fn nexmark_spec<S: Clone>(
    stream: Option<(String, S)>,
    call: S,
    settings: Vec<NexmarkSetting<S>>,
) -> Result<(EventKind, NexmarkSpec), Vec<Diagnostic<S>>> {
    let mut errors = Vec::new();
    let kind = match stream {
        Some((word, at)) => match EventKind::from_name(&word) {
            Some(k) => Some(k),
            None => {
                errors.push(
                    Diagnostic::error(
                        format!("Nexmark has no stream `{word}`"),
                        at,
                        "not person, auction or bid",
                    )
                    .with_help_opt(did_you_mean(&word, ["person", "auction", "bid"])),
                );
                None
            }
        },
        None => {
            errors.push(
                Diagnostic::error(
                    "`nexmark` needs the stream it reads",
                    call.clone(),
                    "no stream",
                )
                .with_help("write nexmark(bid), nexmark(auction) or nexmark(person)"),
            );
            None
        }
    };
    let mut spec = NexmarkSpec::default();
    let mut seen: Vec<(String, S)> = Vec::new();
    for s in settings {
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == s.name) {
            errors.push(
                Diagnostic::error(
                    format!("`{}` is given twice", s.name),
                    s.at.clone(),
                    "given again here",
                )
                .with_related(first.clone(), "first given here"),
            );
            continue;
        }
        seen.push((s.name.clone(), s.at.clone()));
        let Some(v) = s.value else { continue };
        let slot = match s.name.as_str() {
            "events" => &mut spec.events,
            "rate" => &mut spec.rate,
            "seed" => &mut spec.seed,
            "persons" => &mut spec.persons,
            "auctions" => &mut spec.auctions,
            "bids" => &mut spec.bids,
            "active_people" => &mut spec.active_people,
            "in_flight_auctions" => &mut spec.in_flight_auctions,
            "out_of_order" => &mut spec.out_of_order,
            "base_time" => &mut spec.base_time,
            other => {
                errors.push(
                    Diagnostic::error(
                        format!("unknown Nexmark setting `{other}`"),
                        s.at.clone(),
                        "not a setting",
                    )
                    .with_help(NEXMARK_FORMS)
                    .with_help_opt(did_you_mean(other, NEXMARK_SETTINGS.iter().copied())),
                );
                continue;
            }
        };
        *slot = v;
        let mut alone = NexmarkSpec::default();
        if let Err(why) = set_and_check(&mut alone, &s.name, v) {
            errors.push(Diagnostic::error(why, s.at, "out of range"));
        }
    }
    if errors.is_empty() {
        if let Err(why) = spec.check() {
            errors.push(Diagnostic::error(why, call, "these settings make no run"));
        }
    }
    match kind {
        Some(kind) if errors.is_empty() => Ok((kind, spec)),
        _ => Err(errors),
    }
}

/// Whether `name` set to `v` alone (the rest standard) makes a run.
fn set_and_check(spec: &mut NexmarkSpec, name: &str, v: u64) -> Result<(), String> {
    match name {
        "rate" => spec.rate = v,
        "seed" => spec.seed = v,
        "persons" => spec.persons = v,
        "auctions" => spec.auctions = v,
        "bids" => spec.bids = v,
        "active_people" => spec.active_people = v,
        "in_flight_auctions" => spec.in_flight_auctions = v,
        "out_of_order" => spec.out_of_order = v,
        "base_time" if v > i64::MAX as u64 / 2 => {
            return Err("`base_time` is too far in the future".into())
        }
        _ => {}
    }
    spec.check()
}

/// Nexmark's standard fields for `kind` (snake_case, as the crate and RisingWave name them).
pub fn nexmark_schema(kind: EventKind) -> Schema {
    use Type::{Str, Timestamp, U64};
    let fields: &[(&str, Type)] = match kind {
        EventKind::Person => &[
            ("id", U64),
            ("name", Str),
            ("email_address", Str),
            ("credit_card", Str),
            ("city", Str),
            ("state", Str),
            ("date_time", Timestamp),
            ("extra", Str),
        ],
        EventKind::Auction => &[
            ("id", U64),
            ("item_name", Str),
            ("description", Str),
            ("initial_bid", U64),
            ("reserve", U64),
            ("date_time", Timestamp),
            ("expires", Timestamp),
            ("seller", U64),
            ("category", U64),
            ("extra", Str),
        ],
        EventKind::Bid => &[
            ("auction", U64),
            ("bidder", U64),
            ("price", U64),
            ("channel", Str),
            ("url", Str),
            ("date_time", Timestamp),
            ("extra", Str),
        ],
    };
    let name = match kind {
        EventKind::Person => "Person",
        EventKind::Auction => "Auction",
        EventKind::Bid => "Bid",
    };
    Schema {
        name: Some(name.into()),
        fields: fields
            .iter()
            .map(|(n, t)| Field {
                name: (*n).into(),
                ty: t.clone(),
            })
            .collect(),
        rust: None,
    }
}

/// The watermark that covers `spec`'s disorder: events shuffled within groups of
/// `out_of_order` come at most that many events' time late (one millisecond more for the
/// rounding of times); in order, ascending.
pub fn nexmark_watermark(spec: &NexmarkSpec) -> WatermarkSpec {
    if spec.out_of_order <= 1 {
        return WatermarkSpec::Ascending;
    }
    let span = (spec.out_of_order as f64 * 1000.0 / spec.rate as f64).ceil() as i64;
    WatermarkSpec::Bounded(span + 1)
}

/// `options` as written on a Nexmark source (at `at`), with its event time: `date_time`
/// under [`nexmark_watermark`] unless `event_time(...)` or `watermark(...)` is given.
/// `on_error`, `follow` and `time_unit` mean nothing for generated events and are
/// refused.
pub fn nexmark_options<S: Clone>(
    mut options: Vec<WrittenOption<S>>,
    spec: &NexmarkSpec,
    schema: &Schema,
    at: S,
) -> Result<Vec<WrittenOption<S>>, Vec<Diagnostic<S>>> {
    let refused: Vec<Diagnostic<S>> = options
        .iter()
        .filter(|o| ["on_error", "follow", "time_unit"].contains(&o.name.as_str()))
        .map(|o| {
            Diagnostic::error(
                format!("a Nexmark source takes no `{}`", o.name),
                o.name_at.clone(),
                "not for generated events",
            )
            .with_help(
                "its events always decode, have no file to follow, and carry times in milliseconds",
            )
        })
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    let has = |name: &str, options: &[WrittenOption<S>]| options.iter().any(|o| o.name == name);
    if !has("event_time", &options) {
        let field = schema
            .index_of("date_time")
            .expect("every Nexmark stream has date_time");
        options.push(WrittenOption {
            name: "event_time".into(),
            at: at.clone(),
            name_at: at.clone(),
            value: Some(SourceOption::EventTime(EventTime {
                field,
                field_name: "date_time".into(),
                rust: None,
                watermark: WatermarkSpec::Ascending,
                idle: None,
            })),
        });
    }
    if !has("watermark", &options) {
        options.push(WrittenOption {
            name: "watermark".into(),
            at: at.clone(),
            name_at: at,
            value: Some(SourceOption::Watermark(Some(nexmark_watermark(spec)), None)),
        });
    }
    Ok(options)
}
