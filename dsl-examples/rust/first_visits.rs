//! `distinct` inline: the twin of `dsl-examples/first_visits.pipe`.
//!
//!   cargo run --example first_visits_inline

/// A click with its event time.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Click {
    pub user: String,
    pub page: String,
    pub ts: i64,
}

/// The first click of each user on each page, in the order they came.
pub fn pipeline() -> Result<Vec<Click>, weir::JobError> {
    weir::stream! {
        source csv::<Click>("dsl-examples/data/clicks.csv")
        |> key_by(|c: &Click| (c.user.clone(), c.page.clone()))
        |> distinct()
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for c in pipeline()? {
        println!("{},{},{}", c.user, c.page, c.ts);
    }
    Ok(())
}
