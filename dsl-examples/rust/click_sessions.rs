//! Session windows inline: the twin of `dsl-examples/click_sessions.pipe`.
//!
//!   cargo run --example click_sessions_inline

/// A click with its event time.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Click {
    pub user: String,
    pub page: String,
    pub ts: i64,
}

/// User, session start, session end, clicks, active seconds.
pub type Session = (String, i64, i64, u64, i64);

/// Per user session: the user, the session's bounds, its clicks and active seconds.
pub fn pipeline() -> Result<Vec<Session>, weir::JobError> {
    weir::stream! {
        source csv::<Click>("dsl-examples/data/clicks.csv")
            with event_time(|c: &Click| c.ts), watermark(bounded 5s)
        |> key_by(|c: &Click| c.user.clone())
        |> window(session gap 30s)
        |> aggregate(count(), min(|c: &Click| c.ts), max(|c: &Click| c.ts))
        |> map(|(user, start, end, clicks, first, last): (String, i64, i64, u64, i64, i64)| {
            (user, start, end, clicks, (last - first) / 1000)
        })
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for (user, start, end, clicks, active) in pipeline()? {
        println!("{user},{start},{end},{clicks},{active}");
    }
    Ok(())
}
