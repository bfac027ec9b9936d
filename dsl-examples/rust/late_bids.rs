//! Allowed lateness and a late side output inline: the twin of
//! `dsl-examples/late_bids.pipe`.
//!
//!   cargo run --example late_bids_inline

/// A bid with its event time.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Bid {
    pub auction: u64,
    pub bidder: u64,
    pub price: u64,
    pub ts: i64,
}

/// Window results as they fire (again when a late bid updates one), then the bids that
/// came too late for any window.
#[allow(clippy::type_complexity)]
pub fn pipeline() -> Result<(Vec<(u64, i64, i64, u64, u64)>, Vec<Bid>), weir::JobError> {
    weir::stream! {
        source csv::<Bid>("dsl-examples/data/bids_late.csv")
            with event_time(|b: &Bid| b.ts), watermark(bounded 1s)
        |> key_by(|b: &Bid| b.auction)
        |> window(tumbling 5s, allowed_lateness 2s, late -> late_bids)
        |> aggregate(count(), max(|b: &Bid| b.price))
        |> collect();
        late_bids |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    let (windows, late) = pipeline()?;
    for row in windows {
        println!("{row:?}");
    }
    for bid in late {
        println!("late: {bid:?}");
    }
    Ok(())
}
