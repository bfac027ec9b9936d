//! The compiler's layers, checked on its source in the spirit of rust-analyzer's tidy
//! tests: each file imports only from its own layer and the layers before it.
//!
//! 1. the IR and diagnostics;
//! 2. the operator API: its traits (`ops/api.rs`), the lowering builder, the codegen
//!    context (`codegen/context.rs`: `Gen`, `emit`, names, keys, accumulators,
//!    expressions, records, statements), keyed helpers and the checks operators' `check` hooks use;
//! 3. the operators (`ops/*`);
//! 4. the registry (`ops/mod.rs`);
//! 5. passes, code generation and the driver;
//! 6. the front-ends (`parse`, `check`, `inline`, and `compile.rs` and the crate root's
//!    `logical`, the `.pipe` front-end's entries);
//! 7. the CLI and the build cache.
//!
//! Every `crate::…` or `super::…` path outside comments and test modules counts. `KNOWN`
//! lists imports against the layering that remain (none now); none may be added, and a
//! fixed one must leave the list, so the list stays the true account of what is left.
//!
//! `cargo test -p weir-compiler layer`

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Imports against the layering that remain, as `from-file -> to-file`: none. (The last
/// to go: a graph node held the registry's `Operator` enum; it now holds an operator
/// behind the IR's `OperatorNode` trait, and the codegen context is handed the registry's
/// lookup of code generation hooks.) A new one must not be added here but fixed.
const KNOWN: &[&str] = &[];

fn layer(file: &str) -> u8 {
    const API: &[&str] = &[
        "codegen/context.rs",
        "ops/api.rs",
        "codegen/names.rs",
        "codegen/keys.rs",
        "codegen/accumulators.rs",
        "codegen/expr.rs",
        "codegen/records.rs",
        "codegen/statements.rs",
        "ops/keyed.rs",
        "ops/checks.rs",
    ];
    if file.starts_with("ir/") || file.starts_with("diagnostics/") {
        1
    } else if file.starts_with("lower/") || API.contains(&file) {
        2
    } else if file == "ops/mod.rs" {
        4
    } else if file.starts_with("ops/") {
        3
    } else if ["parse/", "check/", "inline/"]
        .iter()
        .any(|p| file.starts_with(p))
        || ["compile.rs", "lib.rs"].contains(&file)
    {
        // `compile` and `logical` (the crate root's) are the `.pipe` front-end's entry.
        6
    } else if ["cli/", "build/"].iter().any(|p| file.starts_with(p)) || file == "main.rs" {
        7
    } else {
        5
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file a `crate::a::b::c` path names: its longest prefix that is a module file.
fn target(path: &[&str]) -> Option<String> {
    for n in (1..=path.len()).rev() {
        let stem = path[..n].join("/");
        for candidate in [format!("{stem}.rs"), format!("{stem}/mod.rs")] {
            if src().join(&candidate).is_file() {
                return Some(candidate);
            }
        }
    }
    Some("lib.rs".to_string())
}

/// The module path of source file `file` (`ops/window/mod.rs`: `ops::window`).
fn module_of(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    let mut segs: Vec<String> = stem.split('/').map(str::to_string).collect();
    if segs
        .last()
        .is_some_and(|s| s == "mod" || s == "lib" || s == "main")
    {
        segs.pop();
    }
    segs
}

/// `text` with its `super::` paths written from the crate root, as `crate::…`, for file
/// `file`: an import through `super` counts as one through `crate`.
fn absolute(text: &str, file: &str) -> String {
    let mut module = module_of(file);
    module.pop();
    let parent = if module.is_empty() {
        "crate::".to_string()
    } else {
        format!("crate::{}::", module.join("::"))
    };
    text.replace("super::", &parent)
}

/// Every `crate::…` path of `text` outside comments and test modules.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break; // test modules close the files they are in
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let path: Vec<String> = after
                .split("::")
                .map(|seg| {
                    seg.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .take_while(|seg| {
                    !seg.is_empty() && seg.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                })
                .collect();
            if !path.is_empty() {
                found.push(path);
            }
            rest = after;
        }
    }
    found
}

fn violations() -> BTreeSet<String> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut out = BTreeSet::new();
    for path in all {
        let file = path
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if file.ends_with("tests.rs") || file.contains("/tests/") {
            continue;
        }
        let text = absolute(&std::fs::read_to_string(&path).unwrap(), &file);
        for p in crate_paths(&text) {
            let segs: Vec<&str> = p.iter().map(String::as_str).collect();
            let Some(to) = target(&segs) else { continue };
            if to != file && layer(&to) > layer(&file) {
                out.insert(format!("{file} -> {to}"));
            }
        }
    }
    out
}

#[test]
fn compiler_imports_follow_the_layers() {
    let found = violations();
    let known: BTreeSet<String> = KNOWN.iter().map(|s| s.to_string()).collect();
    let new: Vec<&String> = found.difference(&known).collect();
    let gone: Vec<&String> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "imports against the layering (see this file's doc):\n{}",
        new.iter()
            .map(|s| format!("    \"{s}\","))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        gone.is_empty(),
        "these imports against the layering are gone: take them out of KNOWN:\n{}",
        gone.iter()
            .map(|s| format!("    \"{s}\","))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_layer_check_reads_paths_as_imports() {
    let paths = crate_paths(
        "use crate::ir::{Plan, Edge};\n// crate::cli::x\nlet x = crate::ops::source::sources_of(p);\n#[cfg(test)]\nuse crate::cli::y;",
    );
    assert_eq!(
        paths,
        vec![
            vec!["ir".to_string()],
            vec!["ops".into(), "source".into(), "sources_of".into()]
        ]
    );
    assert_eq!(
        target(&["ops", "source", "sources_of"]).unwrap(),
        "ops/source/mod.rs"
    );
    assert_eq!(layer("ops/source/mod.rs"), 3);
    assert_eq!(
        crate_paths(&absolute("use super::api::OpInfo;", "ops/window/mod.rs")),
        vec![vec!["ops".to_string(), "api".into()]]
    );
    assert_eq!(
        crate_paths(&absolute("use super::names::ident;", "codegen/chain.rs")),
        vec![vec!["codegen".to_string(), "names".into(), "ident".into()]]
    );
    assert!(layer("ops/mod.rs") > layer("ops/source.rs"));
}
