//! Compiles `pipelines/daily_totals.pipe` into `$OUT_DIR/weir/daily_totals.rs`; a mistake in
//! it fails the build with the diagnostic at its place.

fn main() -> Result<(), weir_build::Error> {
    weir_build::compile("pipelines/daily_totals.pipe")?;
    Ok(())
}
