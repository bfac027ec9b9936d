//! `.pipe` pipelines compiled as part of a crate's build, in the style of `prost-build`.
//!
//! In `build.rs`:
//!
//! ```no_run
//! fn main() -> Result<(), weir_build::Error> {
//!     weir_build::compile("pipelines/orders.pipe")?;
//!     Ok(())
//! }
//! ```
//!
//! and in the crate, `weir::include_pipeline!("orders");` brings in `mod orders`: its
//! records, and `orders::job()`, a run with a method for each source
//! (`input_orders(path)`) and sink (`output_totals(path)`), `memory`, `parallelism` and
//! `run()`. A mistake in the `.pipe` file fails the build with the compiler's diagnostic,
//! `file:line:col` and the source underlined, in cargo's output; cargo reruns the build
//! script only when the file changes.

use std::fmt;
use std::path::{Path, PathBuf};

use weir_compiler::diagnostics::SourceFile;

/// Why a pipeline did not compile: the diagnostics as the `weir` command prints them, or
/// what stood in the way (a file that cannot be read, no `OUT_DIR`).
pub struct Error {
    message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The same text as `Display`: a build script's `main` returning `Err` prints this, and the
/// diagnostics should read as written.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

fn error(message: impl Into<String>) -> Error {
    Error {
        message: message.into(),
    }
}

/// Compiles the pipeline at `path` (relative to the crate, as cargo runs build scripts)
/// into `$OUT_DIR/weir/NAME.rs`, NAME being the file's stem, and tells cargo to run the
/// build script again when the file changes. Warnings are shown as cargo warnings.
/// Returns the file written.
pub fn compile(path: impl AsRef<Path>) -> Result<PathBuf, Error> {
    let path = path.as_ref();
    println!("cargo:rerun-if-changed={}", path.display());
    let out_dir = std::env::var_os("OUT_DIR")
        .ok_or_else(|| error("weir_build::compile runs in a build script: OUT_DIR is not set"))?;
    compile_into(path, Path::new(&out_dir))
}

/// [`compile`] writing under `out_dir` rather than `$OUT_DIR`.
pub fn compile_into(path: &Path, out_dir: &Path) -> Result<PathBuf, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| error(format!("cannot read {}: {e}", path.display())))?;
    let file = SourceFile::new(path.display().to_string(), text);
    let (plan, warnings) = match weir_compiler::compile(&file) {
        Ok(compiled) => compiled,
        Err(diagnostics) => return Err(error(file.render(&diagnostics, false))),
    };
    if !warnings.is_empty() {
        for line in file.render(&warnings, false).lines() {
            println!("cargo:warning={line}");
        }
    }
    let name = plan.name.clone();
    if !is_identifier(&name) {
        return Err(error(format!(
            "{}: the module is named after the file, and `{name}` is not a Rust identifier: \
             rename the file (letters, digits and `_`, not starting with a digit)",
            path.display()
        )));
    }
    let dir = out_dir.join("weir");
    std::fs::create_dir_all(&dir)
        .map_err(|e| error(format!("cannot create {}: {e}", dir.display())))?;
    let target = dir.join(format!("{name}.rs"));
    let code = weir_compiler::codegen::generate_module(&plan, &name);
    std::fs::write(&target, code)
        .map_err(|e| error(format!("cannot write {}: {e}", target.display())))?;
    Ok(target)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && not_a_keyword(name)
}

/// Not one of Rust's keywords, which cannot name a module.
fn not_a_keyword(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
        "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do",
        "final", "gen", "macro", "override", "priv", "try", "typeof", "unsized", "virtual",
        "yield",
    ];
    !KEYWORDS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistake_is_reported_at_its_place() {
        let dir = std::env::temp_dir().join(format!("weir-build-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pipe = dir.join("broken.pipe");
        std::fs::write(
            &pipe,
            "source s = text(\"in.txt\");\ns |> map { n: lenght(line) } |> sink stdout();\n",
        )
        .unwrap();
        let e = compile_into(&pipe, &dir).unwrap_err().to_string();
        assert!(e.contains("broken.pipe:2:15"), "{e}");
        assert!(e.contains("lenght"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_not_named_like_a_module_is_refused() {
        assert!(is_identifier("orders_2"));
        assert!(!is_identifier("2orders"));
        assert!(!is_identifier("my-orders"));
        assert!(!is_identifier("mod"));
    }
}
