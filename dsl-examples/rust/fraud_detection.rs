//! Fraud detection inline: the twin of `dsl-examples/fraud_detection.pipe`. The per-account
//! state is a struct of the program's (kept between transactions, forgotten while it is
//! its `Default`); the closures get it and a context to emit alerts and set timers.
//!
//!   cargo run --example fraud_detection_inline

use weir::process::{ProcessContext, Timer};

/// A card transaction.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Transaction {
    pub ts: i64,
    pub account: String,
    pub amount: f64,
}

/// An alert: a large transaction right after a tiny one.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Alert {
    pub account: String,
    pub ts: i64,
    pub amount: f64,
}

/// What an account remembers: whether its last transaction was under 1.00, and when.
#[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
pub struct Flag {
    pub flagged: bool,
    pub flagged_at: i64,
}

const MINUTE: i64 = 60_000;

/// The alerts, in the order the job raises them.
pub fn pipeline() -> Result<Vec<Alert>, weir::JobError> {
    weir::stream! {
        source csv::<Transaction>("dsl-examples/data/transactions.csv")
            with event_time(|t: &Transaction| t.ts), watermark(ascending)
        |> key_by(|t: &Transaction| t.account.clone())
        |> process(
            on_record(|t: &Transaction, st: &mut Flag, ctx: &mut ProcessContext<String, Alert>| {
                if st.flagged && t.amount > 500.0 && t.ts - st.flagged_at < MINUTE {
                    ctx.emit(Alert { account: t.account.clone(), ts: t.ts, amount: t.amount });
                }
                if st.flagged {
                    ctx.delete_timer_at(st.flagged_at + MINUTE);
                }
                *st = if t.amount < 1.0 {
                    ctx.timer_at(t.ts + MINUTE);
                    Flag { flagged: true, flagged_at: t.ts }
                } else {
                    Flag::default()
                };
            }),
            on_timer(|_: Timer, st: &mut Flag, _: &mut ProcessContext<String, Alert>| {
                *st = Flag::default();
            }),
        )
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    println!("account,ts,amount");
    for a in pipeline()? {
        println!("{},{},{}", a.account, a.ts, a.amount);
    }
    Ok(())
}
