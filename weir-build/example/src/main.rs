//! Runs the pipeline `build.rs` compiled: `weir-build-example ORDERS.csv OUT.csv` writes
//! each customer's orders per UTC day.

weir::include_pipeline!("daily_totals");

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [orders, out] = args.as_slice() else {
        eprintln!("usage: weir-build-example ORDERS.csv OUT.csv");
        return std::process::ExitCode::from(2);
    };
    match daily_totals::job()
        .input_orders(orders.as_str())
        .output_daily(out.as_str())
        .memory(16 << 20)
        .run()
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}
