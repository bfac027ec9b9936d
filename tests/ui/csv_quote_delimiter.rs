#[derive(Debug, Clone, PartialEq, weir::Record)]
struct Bid {
    auction: u64,
}

fn main() {
    let _job = weir::stream! {
        source csv::<Bid>("dsl-examples/data/bids.csv", delimiter: '"') |> collect()
    };
}
