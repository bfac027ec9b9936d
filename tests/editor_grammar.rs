//! The TextMate grammar of `.pipe` files (`editors/pipe.tmLanguage.json`, for VS Code and
//! any editor that reads TextMate grammars) highlights every example without an
//! `invalid.illegal` token, and gives their words the scopes meant for them. The grammar
//! is run by syntect, a TextMate-style engine, after a plain translation into its
//! sublime-syntax form (contexts for repository entries, a pushed context for begin/end).

use serde_json::{json, Value};
use syntect::parsing::{ParseState, ScopeStackOp, SyntaxDefinition, SyntaxSet, SyntaxSetBuilder};

/// One TextMate pattern as sublime-syntax context entries.
fn rule(p: &Value) -> Value {
    if let Some(include) = p["include"].as_str() {
        return json!({ "include": include.trim_start_matches('#') });
    }
    if let Some(begin) = p["begin"].as_str() {
        let mut inner = vec![json!({ "meta_scope": p["name"] })];
        inner.extend(rules(&p["patterns"]));
        inner.push(json!({ "match": p["end"], "pop": true }));
        return json!({ "match": begin, "push": inner });
    }
    let mut r = json!({ "match": p["match"] });
    if let Some(name) = p["name"].as_str() {
        r["scope"] = json!(name);
    }
    assert!(
        p.get("captures").is_none(),
        "the grammar names whole matches: {p}"
    );
    r
}

fn rules(patterns: &Value) -> Vec<Value> {
    patterns
        .as_array()
        .map(|ps| ps.iter().map(rule).collect())
        .unwrap_or_default()
}

/// The grammar as a syntect syntax set.
fn syntax() -> SyntaxSet {
    let grammar: Value =
        serde_json::from_str(&std::fs::read_to_string("editors/pipe.tmLanguage.json").unwrap())
            .unwrap();
    let mut contexts = serde_json::Map::new();
    contexts.insert("main".into(), Value::Array(rules(&grammar["patterns"])));
    for (name, entry) in grammar["repository"].as_object().unwrap() {
        let list = if entry.get("patterns").is_some() && entry.get("begin").is_none() {
            rules(&entry["patterns"])
        } else {
            vec![rule(entry)]
        };
        contexts.insert(name.clone(), Value::Array(list));
    }
    // YAML 1.2 reads JSON as it is.
    let sublime = json!({
        "name": grammar["name"],
        "scope": grammar["scopeName"],
        "file_extensions": grammar["fileTypes"],
        "contexts": contexts,
    });
    let definition =
        SyntaxDefinition::load_from_str(&sublime.to_string(), true, None).expect("a grammar");
    let mut builder = SyntaxSetBuilder::new();
    builder.add(definition);
    builder.build()
}

/// The scopes pushed for `text`, with the text each covers, line by line.
fn scopes(set: &SyntaxSet, text: &str) -> Vec<(String, String)> {
    let syntax = set.find_syntax_by_extension("pipe").unwrap();
    let mut state = ParseState::new(syntax);
    let mut out = Vec::new();
    for line in text.lines() {
        let line = format!("{line}\n");
        let ops = state.parse_line(&line, set).unwrap();
        for (i, (at, op)) in ops.iter().enumerate() {
            if let ScopeStackOp::Push(scope) = op {
                let end = ops[i + 1..].first().map_or(line.len(), |(e, _)| *e);
                out.push((scope.build_string(), line[*at..end].to_string()));
            }
        }
    }
    out
}

fn examples() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in ["dsl-examples", "dsl-examples/nexmark", "tests/fixtures"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "pipe") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_example_highlights_without_an_illegal_token() {
    let set = syntax();
    let files = examples();
    assert!(files.len() > 40, "{}", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let found = scopes(&set, &text);
        let illegal: Vec<&(String, String)> = found
            .iter()
            .filter(|(s, _)| s.starts_with("invalid"))
            .collect();
        assert!(illegal.is_empty(), "{}: {illegal:?}", path.display());
    }
}

#[test]
fn words_get_their_scopes_and_a_stray_character_is_illegal() {
    let set = syntax();
    let text = "// counts\nschema S { ts: timestamp }\nsource s: S = csv(\"in.csv\") \
                with watermark(bounded 2s);\ns |> filter(x >= 1.5 and not y) |> sink stdout();\n\
                s § t\n";
    let found = scopes(&set, text);
    let scope_of = |word: &str| {
        found
            .iter()
            .find(|(_, t)| t == word)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| panic!("{word} not scoped: {found:?}"))
    };
    assert!(scope_of("// counts").starts_with("comment.line"));
    assert!(scope_of("schema").starts_with("keyword.other"));
    assert!(scope_of("timestamp").starts_with("storage.type"));
    assert!(scope_of("2s").starts_with("constant.numeric.duration"));
    assert!(scope_of("1.5").starts_with("constant.numeric"));
    assert!(scope_of("|>").starts_with("keyword.operator"));
    assert!(scope_of("and").starts_with("keyword.operator.word"));
    assert!(scope_of("filter").starts_with("entity.name.function"));
    assert!(scope_of("§").starts_with("invalid.illegal"));
}
