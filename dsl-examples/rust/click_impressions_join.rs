//! A Tumbling Window Join inline: the twin of `dsl-examples/click_impressions_join.pipe`.
//! The join yields `(Impression, Click)` pairs.
//!
//!   cargo run --example click_impressions_join_inline

/// An ad shown on a site.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Impression {
    pub ts: i64,
    pub ad: u64,
    pub site: String,
}

/// A click on an ad.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Click {
    pub ts: i64,
    pub ad: u64,
    pub user: String,
}

/// Per 10 s window: each impression of an ad with each click on it, as (ad, site, user,
/// shown, clicked).
#[allow(clippy::type_complexity)]
pub fn pipeline() -> Result<Vec<(u64, String, String, i64, i64)>, weir::JobError> {
    // Sources are read in declaration order when their watermarks tie, so they are
    // declared in the `.pipe` twin's order.
    weir::stream! {
        let impressions = source csv::<Impression>("dsl-examples/data/impressions.csv")
            with event_time(|i: &Impression| i.ts), watermark(bounded 2s);
        let clicks = source csv::<Click>("dsl-examples/data/ad_clicks.csv")
            with event_time(|c: &Click| c.ts), watermark(bounded 2s)
            |> key_by(|c: &Click| c.ad);
        impressions
        |> key_by(|i: &Impression| i.ad)
        |> window(tumbling 10s)
        |> join(clicks)
        |> map(|(i, c): (Impression, Click)| (i.ad, i.site, c.user, i.ts, c.ts))
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for (ad, site, user, shown, clicked) in pipeline()? {
        println!("{ad},{site},{user},{shown},{clicked}");
    }
    Ok(())
}
