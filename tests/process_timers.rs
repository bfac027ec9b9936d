//! A process function's event-time timers against a reference model: random records (set a
//! timer, delete one, or neither) under a bounded-disorder watermark, with timers in the
//! past, several at one time, timers deleted before they fire, and timers set inside
//! `on timer`. On one worker the exact order of every record and firing is checked; at
//! parallelism 2 and 3, the same rows in any order.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;

use common::{build, read_csv, run_ok, temp};
use proptest::prelude::*;

/// The watermark's bound on disorder, ms.
const DISORDER: i64 = 10;

const PIPE: &str = r#"
schema Op { ts: timestamp, user: str, op: str, arg: i64 }
source ops: Op = csv("ops.csv") with event_time(ts), watermark(bounded 10ms);
ops
  |> key_by(user)
  |> process {
       on record {
         emit { kind: "record", user, at: ts, what: op };
         if op == "set" {
           timer at ts + arg;
         } else if op == "del" {
           delete timer at ts + arg;
         }
       }
       on timer {
         emit { kind: "timer", user, at: timer_time, what: timer_kind };
         if (timer_time as i64) % 4 == 0 {
           timer at timer_time + 3;
         }
       }
     }
  |> sink out = csv("out.csv");
"#;

fn job() -> &'static PathBuf {
    static JOB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, bin) = JOB.get_or_init(|| {
        let dir = temp();
        let pipe = dir.path().join("timers.pipe");
        std::fs::write(&pipe, PIPE).unwrap();
        let bin = build(&pipe);
        (dir, bin)
    });
    bin
}

/// A record: `(ts, user, op, arg)`.
#[derive(Debug, Clone)]
struct Rec {
    ts: i64,
    user: String,
    op: &'static str,
    arg: i64,
}

/// An output row: `(kind, user, at, what)`.
type Row = (String, String, i64, String);

/// The timers of the model: by time, then by the order they were set.
#[derive(Default)]
struct Timers {
    queue: BTreeMap<(i64, u64), String>,
    set: HashMap<(String, i64), u64>,
    seq: u64,
}

impl Timers {
    /// A key has one timer per time: setting it again keeps the first.
    fn register(&mut self, user: &str, at: i64) {
        self.seq += 1;
        if let std::collections::hash_map::Entry::Vacant(e) = self.set.entry((user.into(), at)) {
            e.insert(self.seq);
            self.queue.insert((at, self.seq), user.into());
        }
    }

    fn delete(&mut self, user: &str, at: i64) {
        if let Some(seq) = self.set.remove(&(user.to_string(), at)) {
            self.queue.remove(&(at, seq));
        }
    }

    /// Fires every timer due at `wm`, in order, those set while firing included.
    fn fire(&mut self, wm: i64, out: &mut Vec<Row>) {
        while let Some(entry) = self.queue.first_entry() {
            let (at, _) = *entry.key();
            if at > wm {
                break;
            }
            let user = entry.remove();
            self.set.remove(&(user.clone(), at));
            out.push(("timer".into(), user.clone(), at, "event_time".into()));
            if at % 4 == 0 {
                self.register(&user, at + 3);
            }
        }
    }
}

/// What one worker emits, in order: each record's row, then the timers its watermark (the
/// largest time so far less the disorder, less 1) makes due; at the end every timer left.
fn model(recs: &[Rec]) -> Vec<Row> {
    let mut timers = Timers::default();
    let mut out = Vec::new();
    let (mut max_ts, mut wm) = (i64::MIN, i64::MIN);
    for r in recs {
        out.push(("record".into(), r.user.clone(), r.ts, r.op.into()));
        match r.op {
            "set" => timers.register(&r.user, r.ts + r.arg),
            "del" => timers.delete(&r.user, r.ts + r.arg),
            _ => {}
        }
        if r.ts > max_ts {
            max_ts = r.ts;
            if r.ts - DISORDER - 1 > wm {
                wm = r.ts - DISORDER - 1;
                timers.fire(wm, &mut out);
            }
        }
    }
    timers.fire(i64::MAX, &mut out);
    out
}

fn run(recs: &[Rec], parallelism: &str) -> Vec<Row> {
    let dir = temp();
    let input = dir.path().join("ops.csv");
    let mut text = String::from("ts,user,op,arg\n");
    for r in recs {
        text.push_str(&format!("{},{},{},{}\n", r.ts, r.user, r.op, r.arg));
    }
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("out.csv");
    run_ok(
        job(),
        &[
            "--input",
            &format!("ops={}", input.display()),
            "--output",
            &format!("out={}", out.display()),
            "--parallelism",
            parallelism,
        ],
    );
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["kind", "user", "at", "what"]);
    rows.into_iter()
        .map(|r| {
            (
                r[0].clone(),
                r[1].clone(),
                r[2].parse().unwrap(),
                r[3].clone(),
            )
        })
        .collect()
}

/// Records whose times wander forward with disorder up to the watermark's bound. Timers
/// set by records are at even times (some already due, many at one time), those set
/// inside `on timer` at odd ones, so the two never meet; a delete aims past every time
/// read so far, at a timer no worker can have fired yet, so that which timers fire does
/// not depend on how watermarks interleave across workers.
fn records() -> impl Strategy<Value = Vec<Rec>> {
    let op = prop_oneof![
        3 => (-30i64..60).prop_map(|a| ("set", 2 * a)),
        1 => (0i64..5).prop_map(|a| ("set", 40 + 2 * a)),
        2 => (DISORDER / 2 + 1..DISORDER / 2 + 30).prop_map(|a| ("del", 2 * a)),
        1 => Just(("none", 0)),
    ];
    prop::collection::vec((0..4usize, 0i64..6, 0..=DISORDER / 2, op), 0..80).prop_map(|steps| {
        let mut base = 1_000;
        steps
            .into_iter()
            .map(|(user, step, jitter, (op, arg))| {
                base += 2 * step;
                Rec {
                    ts: base + 2 * jitter,
                    user: ["ann", "bob", "cy", "di"][user].to_string(),
                    op,
                    arg,
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn timers_fire_as_the_model_says(recs in records()) {
        let want = model(&recs);
        prop_assert_eq!(run(&recs, "1"), want.clone());
        let mut want = want;
        want.sort();
        for parallelism in ["2", "3"] {
            let mut got = run(&recs, parallelism);
            got.sort();
            prop_assert_eq!(&got, &want, "at parallelism {}", parallelism);
        }
    }
}

#[test]
fn the_model_sees_what_the_test_means_to_check() {
    // Two timers at one time fire once; a deleted one not at all; one set in the past
    // fires at the next watermark; a timer at a multiple of 4 sets another 3 ms on.
    let rec = |ts, user: &str, op, arg| Rec {
        ts,
        user: user.to_string(),
        op,
        arg,
    };
    let recs = [
        rec(1_000, "ann", "set", 20),
        rec(1_002, "ann", "set", 18),
        rec(1_004, "bob", "set", 40),
        rec(1_006, "bob", "del", 38),
        rec(1_030, "cy", "set", -30),
        rec(1_060, "di", "none", 0),
    ];
    let row = |kind: &str, user: &str, at, what: &str| -> Row {
        (kind.into(), user.into(), at, what.into())
    };
    assert_eq!(
        model(&recs),
        [
            row("record", "ann", 1_000, "set"),
            row("record", "ann", 1_002, "set"),
            row("record", "bob", 1_004, "set"),
            row("record", "bob", 1_006, "del"),
            row("record", "cy", 1_030, "set"),
            // The watermark 1019 passes cy's 1000 (set in the past) but not ann's 1020.
            row("timer", "cy", 1_000, "event_time"),
            row("timer", "cy", 1_003, "event_time"),
            row("record", "di", 1_060, "none"),
            row("timer", "ann", 1_020, "event_time"),
            row("timer", "ann", 1_023, "event_time"),
        ]
    );
    assert_eq!(run(&recs, "1"), model(&recs));
}
