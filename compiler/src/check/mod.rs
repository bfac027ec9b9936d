//! The `.pipe` front-end: a syntax tree becomes a typed operator graph, or diagnostics.
//!
//! Schemas and sources are this front-end's own (`sources.rs`); steps are read here
//! (`steps.rs`: conditions, keys, records, aggregates, `windows.rs`, `intervals.rs`,
//! `sinks.rs`) and lowered
//! by the shared lowering (`crate::lower`) and the operators' files (`crate::ops`), which
//! `stream!` uses too. Names are resolved in statement order (a stream can use only
//! streams defined before it, so the graph is acyclic by construction). Every statement is
//! checked even after an error, so one run reports every mistake; a stream whose
//! definition failed is remembered as broken, so its uses do not repeat the error.

mod aggregate_fields;
mod intervals;
mod iterations;
mod sinks;
mod sources;
mod steps;
mod windows;

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile};
use crate::ir::{Field, Plan, Schema, Type};
use crate::lower::{Flow, Lowering};
use crate::parse::ast::{BrokenStmt, Item, Pipeline, Program, SchemaDecl, Span};

/// Parses and checks `file`. Returns the logical plan when there is no error, and every
/// diagnostic (warnings too) either way.
pub fn check(file: &SourceFile) -> (Option<Plan>, Diagnostics) {
    match crate::parse::parse(&file.text) {
        // Errors in literals do not stop the check: every other mistake is found too.
        Ok((program, mut literals)) => {
            let (plan, rest) = check_program(file, &program);
            let failed = literals.has_errors();
            literals.extend(rest);
            (plan.filter(|_| !failed), literals)
        }
        Err(d) => (None, d),
    }
}

/// Checks a parsed program.
pub fn check_program(file: &SourceFile, program: &Program) -> (Option<Plan>, Diagnostics) {
    let mut front = PipeFront {
        file,
        diagnostics: Diagnostics::new(),
        schemas: HashMap::new(),
        unparsed_schemas: Vec::new(),
    };
    for item in &program.items {
        if let Item::Schema(s) = item {
            front.schema(s);
        }
    }
    for item in &program.items {
        if let Item::Broken(BrokenStmt {
            schema: Some(name), ..
        }) = item
        {
            front.unparsed_schemas.push(name.name.clone());
        }
    }
    let mut l = Lowering::new(front);
    for item in &program.items {
        match item {
            Item::Schema(_) => {}
            Item::Source(s) => {
                let value =
                    l.fe.source(s)
                        .map(|(op, schema)| l.source(op, schema, &s.span));
                l.bind(&s.name.name, s.name.span.clone(), value);
            }
            Item::Let(let_) => {
                let flow = pipeline(&mut l, &let_.pipeline);
                l.end_let(&let_.name.name, let_.name.span.clone(), flow);
            }
            Item::Pipeline(p) => {
                let flow = pipeline(&mut l, p);
                l.end_statement(flow, p.span.clone());
            }
            Item::Broken(b) => {
                let defines = b
                    .defines
                    .as_ref()
                    .map(|n| (n.name.as_str(), n.span.clone()));
                l.unparsed_statement(defines, &b.mentions);
            }
        }
    }
    let no_sink_at = 0..file.text.len().min(1);
    let (plan, front) = l.finish(plan_name(&file.path), file.clone(), no_sink_at);
    (plan, front.diagnostics)
}

fn pipeline(l: &mut Lowering<PipeFront<'_>>, p: &Pipeline) -> Flow<Span> {
    match l.use_stream(&p.head.name, &p.head.span) {
        Some(head) => l.pipeline(head, &p.ops),
        None => Flow::Broken,
    }
}

/// The pipeline's name: the file stem, made a valid identifier.
fn plan_name(path: &str) -> String {
    let stem = std::path::Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("pipeline");
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "job_");
    }
    name
}

/// The `.pipe` front-end's state: the file, its schemas, and the diagnostics so far.
pub(crate) struct PipeFront<'f> {
    file: &'f SourceFile,
    diagnostics: Diagnostics,
    schemas: HashMap<String, (Arc<Schema>, Span)>,
    /// Schemas declared by statements that do not parse: a source of one is broken,
    /// not reported.
    unparsed_schemas: Vec<String>,
}

impl PipeFront<'_> {
    fn schema(&mut self, s: &SchemaDecl) {
        if let Some((_, first)) = self.schemas.get(&s.name.name) {
            let first = first.clone();
            self.diagnostics.push(
                Diagnostic::error(
                    format!("schema `{}` is defined twice", s.name.name),
                    s.name.span.clone(),
                    "second definition",
                )
                .with_related(first, "first definition"),
            );
            return;
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut ok = true;
        for (name, ty) in &s.fields {
            if fields.iter().any(|f| f.name == name.name) {
                self.diagnostics.push(Diagnostic::error(
                    format!(
                        "field `{}` appears twice in schema `{}`",
                        name.name, s.name.name
                    ),
                    name.span.clone(),
                    "duplicate field",
                ));
                ok = false;
            }
            match Type::from_name(&ty.name) {
                Some(t) => fields.push(Field {
                    name: name.name.clone(),
                    ty: t,
                }),
                None => {
                    let mut d = Diagnostic::error(
                        format!("unknown type `{}`", ty.name),
                        ty.span.clone(),
                        "not a type",
                    )
                    .with_help("the types are bool, i64, u64, f64, str and timestamp");
                    if let Some(h) =
                        did_you_mean(&ty.name, ["bool", "i64", "u64", "f64", "str", "timestamp"])
                    {
                        d = d.with_help(h);
                    }
                    self.diagnostics.push(d);
                    ok = false;
                }
            }
        }
        if fields.is_empty() && ok {
            self.diagnostics.push(Diagnostic::error(
                format!("schema `{}` has no fields", s.name.name),
                s.name.span.clone(),
                "empty schema",
            ));
        }
        // A broken schema is still registered, so its uses do not report "unknown schema".
        let schema = Schema {
            rust: None,
            name: Some(s.name.name.clone()),
            fields,
        };
        self.schemas
            .insert(s.name.name.clone(), (Arc::new(schema), s.name.span.clone()));
    }
}
