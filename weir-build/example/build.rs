//! Compiles `pipelines/daily_totals.pipe` into `$OUT_DIR/weir/daily_totals.rs`; a mistake in
//! it fails the build with the diagnostic at its place.

fn main() -> Result<(), weir_build::Error> {
    // The crate's test points this at a broken copy of the pipeline, to find the
    // diagnostic in cargo's output without building another crate.
    println!("cargo:rerun-if-env-changed=WEIR_BUILD_EXAMPLE_PIPE");
    let pipe = std::env::var("WEIR_BUILD_EXAMPLE_PIPE")
        .unwrap_or_else(|_| "pipelines/daily_totals.pipe".to_string());
    weir_build::compile(pipe)?;
    Ok(())
}
