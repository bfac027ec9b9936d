fn main() {
    let _job = weir::stream! {
        source parquet("data/bids.parquet") |> collect()
    };
}
