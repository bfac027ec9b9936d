fn main() {
    let _job = weir::stream! {
        source iter(vec![(1i64, 5u64), (2, 6)])
        |> key_by(|r: &(i64, u64)| r.0)
        |> process(on_recrod(|r: &(i64, u64), st: &mut u64, ctx| {
            *st += r.1;
            ctx.emit(*st);
        }))
        |> collect()
    };
}
