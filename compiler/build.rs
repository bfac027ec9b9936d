//! Fingerprints the runtime's sources, so a generated job built against an older runtime is
//! never taken from the build cache.

use std::hash::{Hash, Hasher};
use std::path::Path;

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            visit(&p, files);
        } else {
            files.push(p);
        }
    }
}

fn main() {
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    println!("cargo:rerun-if-changed={}", runtime.join("src").display());
    println!(
        "cargo:rerun-if-changed={}",
        runtime.join("Cargo.toml").display()
    );
    let mut files = Vec::new();
    visit(&runtime.join("src"), &mut files);
    files.push(runtime.join("Cargo.toml"));
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.strip_prefix(&runtime).unwrap_or(&f).hash(&mut h);
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    println!(
        "cargo:rustc-env=WEIR_RUNTIME_FINGERPRINT={:016x}",
        h.finish()
    );
}
