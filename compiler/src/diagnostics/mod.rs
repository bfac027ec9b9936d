//! Diagnostics: errors and warnings with a place in the source, collected rather than
//! stopped at, and rendered with the source underlined.
//!
//! One type serves both front-ends, generic over the kind of place: byte ranges of a
//! `.pipe` file (the default), or the `proc_macro2::Span`s of the user's tokens in
//! `stream!`, where each becomes a `compile_error!` at those tokens.

use serde::Serialize;

mod spelling;

pub use spelling::{closest, did_you_mean};

/// A byte range in the source text.
pub type Span = std::ops::Range<usize>;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Severity {
    /// The program cannot be compiled.
    Error,
    /// The program compiles, but something is likely a mistake.
    Warning,
}

/// One message about the program, pointing at where (`S`: a kind of place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic<S = Span> {
    /// Error or warning.
    pub severity: Severity,
    /// The headline, in plain words.
    pub message: String,
    /// The main place, underlined.
    pub span: S,
    /// What to say under the underline.
    pub label: String,
    /// Other places that explain the first, with their labels.
    pub related: Vec<(S, String)>,
    /// A suggestion, printed after the source.
    pub help: Option<String>,
}

impl<S> Diagnostic<S> {
    /// An error at `span`.
    pub fn error(message: impl Into<String>, span: S, label: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: label.into(),
            related: Vec::new(),
            help: None,
        }
    }

    /// A warning at `span`.
    pub fn warning(message: impl Into<String>, span: S, label: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message, span, label)
        }
    }

    /// Adds a related place.
    pub fn with_related(mut self, span: S, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    /// Sets the suggestion (a later, more specific one replaces an earlier).
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the suggestion if there is one.
    pub fn with_help_opt(self, help: Option<String>) -> Self {
        match help {
            Some(h) => self.with_help(h),
            None => self,
        }
    }
}

/// The diagnostics of one compilation, in the order found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostics<S = Span> {
    items: Vec<Diagnostic<S>>,
}

impl<S> Default for Diagnostics<S> {
    fn default() -> Self {
        Diagnostics { items: Vec::new() }
    }
}

impl<S> Diagnostics<S> {
    /// No diagnostics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one.
    pub fn push(&mut self, d: Diagnostic<S>) {
        self.items.push(d);
    }

    /// What a rule `made`, or `None` with the mistakes it found added: how a front-end
    /// takes the answer of a rule shared with the other.
    pub fn reported<T>(&mut self, made: Result<T, Vec<Diagnostic<S>>>) -> Option<T> {
        made.map_err(|mistakes| self.items.extend(mistakes)).ok()
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// All of them.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic<S>> {
        self.items.iter()
    }

    /// All of them, taken.
    pub fn into_vec(self) -> Vec<Diagnostic<S>> {
        self.items
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds all of `other`.
    pub fn extend(&mut self, other: Diagnostics<S>) {
        self.items.extend(other.items);
    }
}

/// A source text with the name to print for it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it.
    pub path: String,
    /// The text.
    pub text: String,
}

impl SourceFile {
    /// A source file in memory.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }

    /// `path:line:col` of byte offset `at` (1-based line and column, in characters).
    pub fn location(&self, at: usize) -> String {
        let at = at.min(self.text.len());
        let at = (0..=at)
            .rev()
            .find(|&i| self.text.is_char_boundary(i))
            .unwrap_or(0);
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{}:{line}:{col}", self.path)
    }

    /// Renders `diagnostics` the way a terminal shows them, with colour if `color`. The
    /// source's lines are indexed once for all of them (thousands of errors in a large
    /// file took seconds each when every one scanned the file from its start).
    #[cfg(feature = "render")]
    pub fn render(&self, diagnostics: &Diagnostics, color: bool) -> String {
        let mut out = Vec::new();
        let mut source = (
            self.path.as_str(),
            ariadne::Source::from(self.text.as_str()),
        );
        let lines = LineIndex::new(&self.text);
        for d in diagnostics.iter() {
            self.render_one(d, color, &mut source, &lines, &mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[cfg(feature = "render")]
    fn render_one<'t>(
        &'t self,
        d: &Diagnostic,
        color: bool,
        source: &mut (&'t str, ariadne::Source<&'t str>),
        lines: &LineIndex,
        out: &mut Vec<u8>,
    ) {
        use ariadne::{Color, Config, Label, Report, ReportKind};
        let name = self.path.as_str();
        let clamp = |s: &Span| {
            let len = self.text.len();
            let start = s.start.min(len);
            start..s.end.clamp(start, len)
        };
        let (kind, paint) = match d.severity {
            Severity::Error => (ReportKind::Error, Color::Red),
            Severity::Warning => (ReportKind::Warning, Color::Yellow),
        };
        let span = clamp(&d.span);
        // ariadne counts in characters; the spans here are bytes.
        let chars = |s: std::ops::Range<usize>| {
            let f = |b: usize| lines.chars_before(&self.text, b);
            f(s.start)..f(s.end)
        };
        let (line, col) = lines.line_col(&self.text, span.start);
        let at = format!("{}:{line}:{col}", self.path);
        let mut report = Report::build(kind, (name, chars(span.clone())))
            .with_config(Config::default().with_color(color))
            .with_message(format!("{} ({at})", d.message))
            .with_label(
                Label::new((name, chars(span)))
                    .with_message(&d.label)
                    .with_color(paint),
            );
        for (s, label) in &d.related {
            report = report.with_label(
                Label::new((name, chars(clamp(s))))
                    .with_message(label)
                    .with_color(Color::Blue),
            );
        }
        if let Some(help) = &d.help {
            report = report.with_help(help);
        }
        let _ = report.finish().write(&mut *source, &mut *out);
    }
}

/// Where each line of a text starts (bytes), and the characters before it: a byte
/// offset's line, column and character count in a binary search and one line's scan.
#[cfg(feature = "render")]
struct LineIndex {
    /// Byte offset of each line's start.
    starts: Vec<usize>,
    /// Characters before each line's start.
    chars: Vec<usize>,
}

#[cfg(feature = "render")]
impl LineIndex {
    fn new(text: &str) -> Self {
        let (mut starts, mut chars) = (vec![0], vec![0]);
        let mut count = 0;
        for (i, c) in text.char_indices() {
            count += 1;
            if c == '\n' {
                starts.push(i + 1);
                chars.push(count);
            }
        }
        LineIndex { starts, chars }
    }

    /// `at` moved back to a character boundary, and the index of its line.
    fn find(&self, text: &str, at: usize) -> (usize, usize) {
        let at = at.min(text.len());
        let at = (0..=at)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let line = self.starts.partition_point(|&s| s <= at) - 1;
        (at, line)
    }

    /// Characters before byte `at`.
    fn chars_before(&self, text: &str, at: usize) -> usize {
        let (at, line) = self.find(text, at);
        self.chars[line] + text[self.starts[line]..at].chars().count()
    }

    /// The 1-based line and column (in characters) of byte `at`.
    fn line_col(&self, text: &str, at: usize) -> (usize, usize) {
        let (at, line) = self.find(text, at);
        (line + 1, text[self.starts[line]..at].chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based_lines_and_columns() {
        let f = SourceFile::new("a.pipe", "ab\ncdé\nx");
        assert_eq!(f.location(0), "a.pipe:1:1");
        assert_eq!(f.location(4), "a.pipe:2:2");
        assert_eq!(f.location(8), "a.pipe:3:1");
        assert_eq!(f.location(999), "a.pipe:3:2");
    }
}
