//! Statements from pest pairs: a process function's or an iteration's declarations and
//! handlers, and the statements of their blocks.

use pest::iterators::{Pair, Pairs};

use super::super::ast::*;
use super::super::Rule;
use super::{ident, span, Builder};
use crate::diagnostics::Diagnostic;
use crate::ir::process::{Handler, ProcessBody, StateDecl, Stmt, StmtKind};

impl Builder {
    /// The declarations and handlers of a `process` block.
    pub(super) fn process(&mut self, items: Pairs<'_, Rule>) -> ProcessBody {
        let mut body = ProcessBody {
            states: Vec::new(),
            handlers: Vec::new(),
        };
        for item in items {
            self.block_item(item, &mut body.states, &mut body.handlers);
        }
        body
    }

    /// A declaration or a handler of a `process` or `iterate` block.
    pub(super) fn block_item(
        &mut self,
        item: Pair<'_, Rule>,
        decls: &mut Vec<StateDecl>,
        handlers: &mut Vec<Handler>,
    ) {
        {
            let whole = span(&item);
            let mut it = item.clone().into_inner();
            match item.as_rule() {
                Rule::state_decl => {
                    let kind = ident(it.next().expect("state kind"));
                    let name = ident(it.next().expect("state name"));
                    let ty = ident(it.next().expect("state type"));
                    let mut value_ty = None;
                    let mut init = None;
                    for rest in it {
                        match rest.as_rule() {
                            Rule::ident => value_ty = Some(ident(rest)),
                            Rule::expr => init = Some(self.expr(rest)),
                            _ => {}
                        }
                    }
                    decls.push(StateDecl {
                        kind,
                        name,
                        ty,
                        value_ty,
                        init,
                        span: whole,
                    });
                }
                Rule::handler => {
                    it.next(); // `on`
                    let on = ident(it.next().expect("handler name"));
                    let block = self.block(it.next().expect("handler block"));
                    handlers.push(Handler { on, body: block });
                }
                r => unreachable!("block item rule {r:?}"),
            }
        }
    }

    pub(super) fn block(&mut self, p: Pair<'_, Rule>) -> Vec<Stmt> {
        p.into_inner().map(|s| self.stmt(s)).collect()
    }

    pub(super) fn stmt(&mut self, p: Pair<'_, Rule>) -> Stmt {
        let whole = span(&p);
        let rule = p.as_rule();
        let mut it = p.into_inner().filter(|q| {
            !matches!(
                q.as_rule(),
                Rule::semi
                    | Rule::kw_let
                    | Rule::kw_if
                    | Rule::kw_else
                    | Rule::word_for
                    | Rule::word_in
                    | Rule::word_emit
                    | Rule::word_clear
                    | Rule::word_send
                    | Rule::contribute
            )
        });
        let kind = match rule {
            Rule::let_local => {
                let name = ident(it.next().expect("let name"));
                StmtKind::Let(name, self.expr(it.next().expect("let value")))
            }
            Rule::assign_stmt => {
                let name = ident(it.next().expect("assigned name"));
                StmtKind::Assign(name, self.expr(it.next().expect("assigned value")))
            }
            Rule::if_stmt => {
                let parts: Vec<Pair<'_, Rule>> = it.collect();
                let arms = parts.len() / 2;
                if arms > MAX_EXPR_DEPTH {
                    self.diagnostics.push(
                        Diagnostic::error(
                            format!("this `if` has more than {MAX_EXPR_DEPTH} `else if` arms"),
                            whole.clone(),
                            "this chain",
                        )
                        .with_help("split it, or look the value up in a map state"),
                    );
                    return Stmt {
                        kind: StmtKind::If(
                            Expr {
                                kind: ExprKind::Bool(false),
                                span: whole.clone(),
                            },
                            Vec::new(),
                            Vec::new(),
                        ),
                        span: whole,
                    };
                }
                let mut otherwise = match parts.len() % 2 {
                    1 => self.block(parts[parts.len() - 1].clone()),
                    _ => Vec::new(),
                };
                // Folded from the last arm, so `else if` is an `if` alone in its else branch.
                for arm in (0..arms).rev() {
                    let cond = self.expr(parts[2 * arm].clone());
                    let then = self.block(parts[2 * arm + 1].clone());
                    let start = parts[2 * arm].as_span().start();
                    let span = Span {
                        start: if arm == 0 { whole.start } else { start },
                        end: whole.end,
                    };
                    let stmt = Stmt {
                        kind: StmtKind::If(cond, then, otherwise),
                        span,
                    };
                    if arm == 0 {
                        return stmt;
                    }
                    otherwise = vec![stmt];
                }
                unreachable!("an if has at least one arm")
            }
            Rule::for_stmt => {
                let mut names: Vec<Ident> = Vec::new();
                let mut body = Vec::new();
                for q in it {
                    match q.as_rule() {
                        Rule::ident => names.push(ident(q)),
                        _ => body = self.block(q),
                    }
                }
                let over = names.pop().expect("the state iterated");
                StmtKind::For(names, over, body)
            }
            Rule::emit_stmt => {
                let record = it.next().expect("emitted record");
                let fields = record
                    .into_inner()
                    .map(|f| {
                        let mut parts = f.into_inner();
                        let name = ident(parts.next().expect("field name"));
                        let value = parts.next().map(|e| self.expr(e));
                        (name, value)
                    })
                    .collect();
                StmtKind::Emit(fields)
            }
            Rule::timer_stmt => {
                let (mut delete, mut processing, mut after) = (false, false, false);
                let mut when = None;
                for q in it {
                    match q.as_rule() {
                        Rule::word_delete => delete = true,
                        Rule::word_processing => processing = true,
                        Rule::timer_word => after = q.as_str() == "after",
                        Rule::expr => when = Some(self.expr(q)),
                        _ => {}
                    }
                }
                StmtKind::Timer {
                    delete,
                    processing: processing || after,
                    after,
                    when: when.expect("the timer's time"),
                }
            }
            Rule::clear_stmt => StmtKind::Clear(ident(it.next().expect("cleared state"))),
            Rule::send_stmt => StmtKind::Send(self.expr(it.next().expect("sent value"))),
            Rule::contribute_stmt => {
                let name = ident(it.next().expect("aggregate name"));
                let mut exprs: Vec<Expr> = it.map(|e| self.expr(e)).collect();
                let value = exprs.pop().expect("contributed value");
                StmtKind::Contribute(name, exprs.pop(), value)
            }
            Rule::call_stmt => {
                let name = ident(it.next().expect("called name"));
                StmtKind::Call(name, it.map(|e| self.expr(e)).collect())
            }
            r => unreachable!("statement rule {r:?}"),
        };
        Stmt { kind, span: whole }
    }
}
