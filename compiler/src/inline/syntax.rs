//! The inline form's syntax, parsed with syn: statements of `head |> call |> call`. Calls
//! keep their arguments as tokens; what an operator's arguments mean is the lowering's
//! business (`lower.rs`), so this file knows only the shape shared by every operator.
//!
//! ```text
//! pipeline  := statement (";" statement)* ";"?
//! statement := ("let" IDENT "=")? head ("|>" step)*
//! head      := "source" call ("with" call ("," call)*)?  |  IDENT
//! step      := "sink" call  |  call
//! call      := IDENT ("::" "<" TYPE ">")? "(" TOKENS ")"
//! ```

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{parenthesized, Ident, Token};

/// The whole macro input.
pub struct Pipeline {
    /// Statements in order.
    pub statements: Vec<Statement>,
}

/// `let name = head |> ...` or `head |> ...`.
pub struct Statement {
    /// The stream's name, for `let`.
    pub name: Option<Ident>,
    /// Where the records come from.
    pub head: Head,
    /// The steps in order.
    pub steps: Vec<Step>,
}

/// The start of a statement.
pub enum Head {
    /// `source kind(...) with ...`.
    Source {
        /// The source kind and its arguments.
        kind: Box<Call>,
        /// The `with` clauses.
        with: Vec<Call>,
    },
    /// A stream named by an earlier `let` (or a `late ->` side output).
    Stream(Ident),
}

/// One `|> ...` step.
pub enum Step {
    /// An operator.
    Op(Call),
    /// `sink kind(...)`.
    Sink {
        /// The sink kind and its arguments.
        kind: Call,
    },
}

impl Step {
    /// The call of the step.
    pub fn call(&self) -> &Call {
        match self {
            Step::Op(c) | Step::Sink { kind: c, .. } => c,
        }
    }
}

/// `name::<Type>(tokens)`.
pub struct Call {
    /// The name.
    pub name: Ident,
    /// A type given with a turbofish (`csv::<Bid>`).
    pub ty: Option<syn::Type>,
    /// The tokens between the parentheses.
    pub args: TokenStream,
    /// The parentheses' span, for "missing argument" errors.
    pub parens: Span,
}

impl Call {
    /// The span of the whole call (its name, for compilers without span joining).
    pub fn span(&self) -> Span {
        self.name
            .span()
            .join(self.parens)
            .unwrap_or(self.name.span())
    }
}

/// A source option: a call, or a bare word (`follow`) as a call without arguments.
fn option(input: ParseStream<'_>) -> syn::Result<Call> {
    let bare = input.peek(Ident) && !input.peek2(syn::token::Paren) && !input.peek2(Token![::]);
    if !bare {
        return input.parse();
    }
    let name: Ident = input.parse()?;
    Ok(Call {
        parens: name.span(),
        name,
        ty: None,
        args: TokenStream::new(),
    })
}

fn is_pipe(input: ParseStream<'_>) -> bool {
    input.peek(Token![|]) && input.peek2(Token![>])
}

impl Parse for Pipeline {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut statements = Vec::new();
        while !input.is_empty() {
            statements.push(input.parse()?);
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![;]) {
                return Err(input.error("expected `|>` or `;` after this step"));
            }
            input.parse::<Token![;]>()?;
        }
        if statements.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "stream! needs a pipeline, as in `source iter(v) |> collect()`",
            ));
        }
        Ok(Pipeline { statements })
    }
}

impl Parse for Statement {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = if input.peek(Token![let]) {
            input.parse::<Token![let]>()?;
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Some(name)
        } else {
            None
        };
        let head = input.parse()?;
        let mut steps = Vec::new();
        while is_pipe(input) {
            input.parse::<Token![|]>()?;
            input.parse::<Token![>]>()?;
            steps.push(input.parse()?);
        }
        Ok(Statement { name, head, steps })
    }
}

impl Parse for Head {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let word: Ident = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), "expected `source ...` or a stream's name"))?;
        if word != "source" {
            return Ok(Head::Stream(word));
        }
        let kind = input.parse()?;
        let mut with = Vec::new();
        if input.peek(Ident) && input.fork().parse::<Ident>()? == "with" {
            input.parse::<Ident>()?;
            loop {
                with.push(option(input)?);
                if !input.peek(Token![,]) {
                    break;
                }
                input.parse::<Token![,]>()?;
            }
        }
        Ok(Head::Source {
            kind: Box::new(kind),
            with,
        })
    }
}

impl Parse for Step {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Ident) && input.fork().parse::<Ident>()? == "sink" && input.peek2(Ident) {
            input.parse::<Ident>()?;
            let kind = input.parse()?;
            return Ok(Step::Sink { kind });
        }
        Ok(Step::Op(input.parse()?))
    }
}

impl Parse for Call {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        let ty = if input.peek(Token![::]) {
            input.parse::<Token![::]>()?;
            input.parse::<Token![<]>()?;
            let ty = input.parse()?;
            input.parse::<Token![>]>()?;
            Some(ty)
        } else {
            None
        };
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                name.span(),
                format!("expected `(` after `{name}`: every step is a call, as in `{name}(...)`"),
            ));
        }
        let content;
        let parens = parenthesized!(content in input);
        let args = content.parse()?;
        Ok(Call {
            name,
            ty,
            args,
            parens: parens.span.join(),
        })
    }
}
