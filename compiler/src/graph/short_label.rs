//! The short label of an operator in a picture (SVG, HTML): what it is and its key
//! arguments, read at a glance; the full text goes in the tooltip.
//!
//! Shortened from the operator's description as `weir explain` prints it, so every
//! operator gets one without a method of its own: record bodies keep their field names
//! (`aggregate { bids, top }`), a file keeps its name without the folders, and a named
//! option that only tunes (`header: true`, `delimiter: ','`) is left to the tooltip.

/// The widest line of a short label, in characters.
pub const LINE_WIDTH: usize = 36;
/// The most lines a short label takes; the rest is cut with an ellipsis.
pub const MAX_LINES: usize = 3;

/// The lines of the short label of an operator described as `detail`.
pub fn short_label(detail: &str) -> Vec<String> {
    let text = named_options_dropped(&bodies_as_names(&paths_as_file_names(detail)));
    // Centred lines: the continuation indent `wrap` gives a table would only look astray.
    let mut lines: Vec<String> = crate::explain::wrap(&text, LINE_WIDTH)
        .into_iter()
        .map(|l| l.trim().to_string())
        .collect();
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES);
        let last = &mut lines[MAX_LINES - 1];
        let keep: String = last.chars().take(LINE_WIDTH - 1).collect();
        *last = format!("{}…", keep.trim_end());
    }
    lines
}

/// Quoted paths as their file names: `csv("data/bids.csv")` is `csv("bids.csv")`.
fn paths_as_file_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else {
            out.push_str(after);
            return out;
        };
        let quoted = &after[..close];
        out.push_str(quoted.rsplit('/').next().unwrap_or(quoted));
        out.push('"');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Each `{ name: expression, ... }` as `{ name, ... }`: the fields a step makes, not how.
fn bodies_as_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            out.push(c);
            continue;
        }
        let mut body = String::new();
        let mut depth = 1;
        for c in chars.by_ref() {
            match c {
                '{' | '(' | '[' => depth += 1,
                '}' | ')' | ']' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                break;
            }
            body.push(c);
        }
        let names: Vec<String> = top_level_parts(&body)
            .iter()
            .map(|part| match part.split_once(':') {
                Some((name, _)) if is_name(name.trim()) => name.trim().to_string(),
                _ => part.trim().to_string(),
            })
            .filter(|name| !name.is_empty())
            .collect();
        out.push_str(&format!("{{ {} }}", names.join(", ")));
    }
    out
}

/// Inside brackets, `name: value` options after the first argument are dropped:
/// `csv("bids.csv", header: true)` is `csv("bids.csv")`.
fn named_options_dropped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '(' {
            continue;
        }
        let mut inner = String::new();
        let mut depth = 1;
        for c in chars.by_ref() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                break;
            }
            inner.push(c);
        }
        let parts = top_level_parts(&inner);
        let kept: Vec<String> = parts
            .iter()
            .enumerate()
            .filter(|(i, part)| {
                *i == 0
                    || !part
                        .split_once(':')
                        .is_some_and(|(name, _)| is_name(name.trim()))
            })
            .map(|(_, part)| named_options_dropped(part.trim()))
            .collect();
        out.push_str(&kept.join(", "));
        out.push(')');
    }
    out
}

/// `text` cut at its commas outside brackets and quotes.
fn top_level_parts(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

fn is_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_keeps_its_file_name_and_event_time() {
        let detail = "source bids = csv(\"dsl-examples/data/bids_late.csv\", header: true, \
                      delimiter: ',') with event_time(ts), watermark(bounded 1s)";
        assert_eq!(
            short_label(detail),
            vec![
                "source bids = csv(\"bids_late.csv\")",
                "with event_time(ts),",
                "watermark(bounded 1s)"
            ]
        );
    }

    #[test]
    fn a_body_keeps_its_field_names() {
        let detail =
            "window(tumbling 5s, allowed_lateness 2s) |> aggregate { bids: count(), top: max(price) }";
        assert_eq!(
            short_label(detail).join(" "),
            "window(tumbling 5s, allowed_lateness 2s) |> aggregate { bids, top }"
        );
    }

    #[test]
    fn a_long_description_is_cut_with_an_ellipsis() {
        let detail = format!("filter {}", "x > 1 && ".repeat(40));
        let lines = short_label(&detail);
        assert_eq!(lines.len(), MAX_LINES);
        assert!(lines[MAX_LINES - 1].ends_with('…'));
        assert!(lines.iter().all(|l| l.chars().count() <= LINE_WIDTH));
    }
}
