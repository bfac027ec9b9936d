fn main() {
    let _job = weir::stream! {
        source csv("dsl-examples/data/bids.csv") |> collect()
    };
}
