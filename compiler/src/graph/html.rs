//! One self-contained HTML page of a plan: its SVG picture and, below it, each operator's
//! state, budget and whether it spills, as `weir explain` reckons them.

use super::svg::{escape, Svg};
use super::{GraphView, GraphWriter};
use crate::explain::OperatorRow;

/// Writes the page; `operators` are `weir explain`'s rows for the same plan, `memory`
/// says which `--memory` and parallelism they were reckoned for.
pub struct Html {
    /// The table's rows.
    pub operators: Vec<OperatorRow>,
    /// Why each operator that cannot spill cannot.
    pub cannot_spill: Vec<String>,
    /// `256 MiB on 1 worker`, the run the budgets are for.
    pub memory: String,
}

impl GraphWriter for Html {
    fn write(&self, view: &GraphView) -> String {
        let mut rows = String::new();
        for r in &self.operators {
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>\n",
                escape(&r.operator),
                escape(&r.location),
                r.chain,
                r.state,
                escape(&r.budget),
                r.spills
            ));
        }
        let notes: String = self
            .cannot_spill
            .iter()
            .map(|why| format!("<li>{}</li>", escape(why)))
            .collect();
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(
                "<p>Past its budget an operator that spills writes its state to disk and goes \
                 on; one that cannot stops with an error:</p><ul>{notes}</ul>\n"
            )
        };
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{title}</title><style>{STYLE}</style></head><body>\n\
             <h1>{title}</h1>\n<p class=\"hint\">Hover over an operator for its whole \
             description. Dashed boxes are chains; bold edges cross workers; dashed orange \
             edges are side outputs, dashed purple ones an iteration's next round.</p>\n\
             <div class=\"graph\">{svg}</div>\n<h2>Operators ({memory})</h2>\n<table>\
             <thead><tr><th>operator</th><th>at</th><th>chain</th><th>state</th>\
             <th>budget</th><th>spills</th></tr></thead><tbody>\n{rows}</tbody></table>\n\
             {notes}</body></html>\n",
            title = escape(&format!("{} ({} plan)", view.name, view.stage)),
            svg = Svg.write(view),
            memory = escape(&self.memory),
        )
    }
}

const STYLE: &str = "body{font-family:DejaVu Sans,Verdana,sans-serif;margin:24px;color:#1b2733}\
h1{font-size:20px}h2{font-size:16px;margin-top:28px}.hint{color:#55606b;font-size:13px}\
.graph{overflow:auto}table{border-collapse:collapse;font-size:13px}\
th,td{border:1px solid #d5dbe1;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#eef1f4}td.n{text-align:right}";
