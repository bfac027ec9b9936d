//! SVG pictures of a plan, laid out in pure Rust (the `layout-rs` crate places the nodes
//! and routes the edges; no system graphviz is needed) and drawn here: short labels with
//! the full description as a tooltip, chains as dashed boxes around their operators, keyed
//! operators shaded, side outputs and feedback edges styled apart from streams.

use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::short_label::short_label;
use super::{EdgeView, GraphView, GraphWriter, NodeView};

/// Writes a standalone SVG document.
pub struct Svg;

/// Text size in pixels: readable at 100% zoom.
const FONT_SIZE: usize = 14;
/// Room around a chain's operators inside its box.
const CHAIN_PADDING: f64 = 10.0;
/// Room around the whole picture.
const MARGIN: f64 = 20.0;

impl GraphWriter for Svg {
    fn write(&self, view: &GraphView) -> String {
        let mut graph = VisualGraph::new(Orientation::TopToBottom);
        let handles: Vec<_> = view
            .nodes
            .iter()
            .map(|n| graph.add_node(node_element(n)))
            .collect();
        let index_of = |id: usize| view.nodes.iter().position(|n| n.id == id);
        for e in &view.edges {
            if let (Some(from), Some(to)) = (index_of(e.from), index_of(e.to)) {
                graph.add_edge(edge_arrow(e), handles[from], handles[to]);
            }
        }
        let mut canvas = SvgCanvas::new(view);
        graph.do_it(false, false, false, &mut canvas);
        canvas.document()
    }
}

fn node_element(n: &NodeView) -> Element {
    let label = short_label(&n.detail).join("\n");
    let shape = ShapeKind::Box(label);
    let fill = if n.state == "stateless" {
        "#eef4fb"
    } else {
        "#fdf0dc"
    };
    let look = StyleAttr::new(
        Color::fast("#44546a"),
        1,
        Color::from_name(fill),
        6,
        FONT_SIZE,
    );
    let size = get_shape_size(Orientation::TopToBottom, &shape, FONT_SIZE, false);
    Element::create_with_properties(
        shape,
        look,
        Orientation::TopToBottom,
        size,
        format!("node:{}", n.id),
    )
}

fn edge_arrow(e: &EdgeView) -> Arrow {
    let (style, class) = if e.feedback {
        (LineStyleKind::Dashed, "feedback")
    } else if e.from_port != 0 {
        (LineStyleKind::Dashed, "side")
    } else if e.partitioning == "forward" {
        (LineStyleKind::Normal, "forward")
    } else {
        (LineStyleKind::Normal, "exchange")
    };
    let look = StyleAttr::new(Color::fast("#44546a"), 1, None, 0, FONT_SIZE - 2);
    Arrow::with_properties(
        LineEndKind::None,
        LineEndKind::Arrow,
        style,
        &e.label(),
        &look,
        format!("edge:{class}"),
        &None,
        &None,
    )
}

/// A drawing surface for `layout-rs`: collects SVG elements and where each operator landed.
struct SvgCanvas<'a> {
    view: &'a GraphView,
    nodes: String,
    edges: String,
    labels: String,
    /// Each operator's box: id, top left, size.
    boxes: Vec<(usize, Point, Point)>,
    /// The extent of everything drawn: least and greatest corner.
    extent: Option<(Point, Point)>,
    /// Arrows drawn so far (their ids).
    arrows: usize,
}

impl<'a> SvgCanvas<'a> {
    fn new(view: &'a GraphView) -> Self {
        SvgCanvas {
            view,
            nodes: String::new(),
            edges: String::new(),
            labels: String::new(),
            boxes: Vec::new(),
            extent: None,
            arrows: 0,
        }
    }

    fn grow(&mut self, at: Point, size: Point) {
        let (lo, hi) = self.extent.unwrap_or((at, at));
        let end = Point::new(at.x + size.x, at.y + size.y);
        self.extent = Some((
            Point::new(lo.x.min(at.x), lo.y.min(at.y)),
            Point::new(hi.x.max(end.x), hi.y.max(end.y)),
        ));
    }

    /// The dashed box of each chain of more than one operator, around its operators.
    fn chain_boxes(&mut self) -> String {
        let mut out = String::new();
        for chain in self.view.chains.iter().filter(|c| c.nodes.len() > 1) {
            let placed: Vec<&(usize, Point, Point)> = self
                .boxes
                .iter()
                .filter(|(id, _, _)| chain.nodes.contains(id))
                .collect();
            let Some(first) = placed.first() else {
                continue;
            };
            let (mut lo, mut hi) = (first.1, first.1);
            for (_, at, size) in &placed {
                lo = Point::new(lo.x.min(at.x), lo.y.min(at.y));
                hi = Point::new(hi.x.max(at.x + size.x), hi.y.max(at.y + size.y));
            }
            let at = Point::new(
                lo.x - CHAIN_PADDING,
                lo.y - CHAIN_PADDING - FONT_SIZE as f64,
            );
            let size = Point::new(
                hi.x - lo.x + 2.0 * CHAIN_PADDING,
                hi.y - lo.y + 2.0 * CHAIN_PADDING + FONT_SIZE as f64,
            );
            self.grow(at, size);
            out.push_str(&format!(
                "<g class=\"chain\"><title>chain {id}: its operators run in one function, \
                 records passed by value</title><rect x=\"{x:.1}\" y=\"{y:.1}\" \
                 width=\"{w:.1}\" height=\"{h:.1}\" rx=\"8\"/><text x=\"{tx:.1}\" \
                 y=\"{ty:.1}\">chain {id}</text></g>\n",
                id = chain.id,
                x = at.x,
                y = at.y,
                w = size.x,
                h = size.y,
                tx = at.x + 6.0,
                ty = at.y + FONT_SIZE as f64,
            ));
        }
        out
    }

    fn document(mut self) -> String {
        let chains = self.chain_boxes();
        let view = self.view;
        let (lo, hi) = self
            .extent
            .unwrap_or((Point::new(0.0, 0.0), Point::new(0.0, 0.0)));
        let (x, y) = (lo.x - MARGIN, lo.y - MARGIN);
        // Whole pixels, the same in the view box as in the size: drawn 1:1.
        let (w, h) = (
            (hi.x - lo.x + 2.0 * MARGIN).ceil(),
            (hi.y - lo.y + 2.0 * MARGIN).ceil(),
        );
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"weir-graph\" \
             width=\"{w}\" height=\"{h}\" viewBox=\"{x:.1} {y:.1} {w} {h}\" \
             font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"{FONT_SIZE}\">\n\
             <title>{title}</title>\n{STYLE}<defs><marker id=\"arrowhead\" viewBox=\"0 0 10 10\" \
             refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" \
             markerHeight=\"10\" orient=\"auto\">\
             <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#44546a\"/></marker></defs>\n\
             {chains}{edges}{nodes}{labels}</svg>\n",
            title = escape(&format!("{} ({} plan)", view.name, view.stage)),
            edges = self.edges,
            nodes = self.nodes,
            labels = self.labels,
        )
    }
}

const STYLE: &str = "<style>\
.weir-graph .chain rect{fill:#f7f7f7;stroke:#9aa5b1;stroke-dasharray:6 4}\
.weir-graph .chain text{fill:#66707a;font-size:12px}\
.weir-graph .op:hover rect{stroke-width:2.5}\
.weir-graph .label{pointer-events:none;fill:#1b2733}\
.weir-graph .edge path{fill:none;stroke:#44546a;stroke-width:1.3}\
.weir-graph .edge.exchange path{stroke-width:2.6}\
.weir-graph .edge.side path{stroke:#b45309;stroke-dasharray:6 4}\
.weir-graph .edge.feedback path{stroke:#7c3aed;stroke-dasharray:4 4}\
.weir-graph .edge-label{fill:#3d4a57;paint-order:stroke;stroke:#fff;stroke-width:4px}\
</style>\n";

impl RenderBackend for SvgCanvas<'_> {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        properties: Option<String>,
        _clip: Option<ClipHandle>,
    ) {
        self.grow(xy, size);
        let Some(id) = properties
            .as_deref()
            .and_then(|p| p.strip_prefix("node:"))
            .and_then(|id| id.parse::<usize>().ok())
        else {
            return;
        };
        self.boxes.push((id, xy, size));
        let fill = look
            .fill_color
            .map(|c| web_color(&c))
            .unwrap_or_else(|| "none".into());
        let tooltip = self
            .view
            .nodes
            .iter()
            .find(|n| n.id == id)
            .map(tooltip)
            .unwrap_or_default();
        self.nodes.push_str(&format!(
            "<g class=\"op\" id=\"op-{id}\"><title>{tooltip}</title><rect x=\"{:.1}\" \
             y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"{}\" fill=\"{fill}\" \
             stroke=\"{}\" stroke-width=\"{}\"/></g>\n",
            xy.x,
            xy.y,
            size.x,
            size.y,
            look.rounded,
            web_color(&look.line_color),
            look.line_width,
        ));
    }

    fn draw_line(&mut self, start: Point, stop: Point, look: &StyleAttr, _: Option<String>) {
        self.edges.push_str(&format!(
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\"/>\n",
            start.x,
            start.y,
            stop.x,
            stop.y,
            web_color(&look.line_color)
        ));
    }

    fn draw_circle(&mut self, xy: Point, size: Point, _: &StyleAttr, _: Option<String>) {
        self.grow(Point::new(xy.x - size.x / 2.0, xy.y - size.y / 2.0), size);
    }

    fn draw_text(&mut self, xy: Point, text: &str, look: &StyleAttr) {
        let lines: Vec<&str> = text.lines().collect();
        let height = (lines.len() * (look.font_size + 3)) as f64;
        let widest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let width = widest as f64 * look.font_size as f64 * 0.6;
        self.grow(
            Point::new(xy.x - width / 2.0, xy.y - height / 2.0),
            Point::new(width, height),
        );
        let mut spans = String::new();
        for (i, line) in lines.iter().enumerate() {
            let dy = if i == 0 {
                // The first line's baseline, so the block is centred on `xy`.
                -(height / 2.0) + look.font_size as f64
            } else {
                (look.font_size + 3) as f64
            };
            spans.push_str(&format!(
                "<tspan x=\"{:.1}\" dy=\"{dy:.1}\">{}</tspan>",
                xy.x,
                escape(line)
            ));
        }
        // Edges' labels are drawn smaller than operators' (`edge_arrow`), over their line.
        let class = if look.font_size < FONT_SIZE {
            "label edge-label"
        } else {
            "label"
        };
        self.labels.push_str(&format!(
            "<text class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" \
             font-size=\"{}\">{spans}</text>\n",
            xy.x, xy.y, look.font_size
        ));
    }

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        _dashed: bool,
        head: (bool, bool),
        _look: &StyleAttr,
        properties: Option<String>,
        text: &str,
    ) {
        if path.len() < 2 {
            return;
        }
        for (a, b) in path {
            self.grow(*a, Point::new(0.0, 0.0));
            self.grow(*b, Point::new(0.0, 0.0));
        }
        // `path` holds a point and its control point for each stop: a cubic Bezier to
        // the second, smooth ones on to the rest.
        let mut d = format!(
            "M {:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}",
            path[0].0.x,
            path[0].0.y,
            path[0].1.x,
            path[0].1.y,
            path[1].0.x,
            path[1].0.y,
            path[1].1.x,
            path[1].1.y
        );
        for (control, point) in &path[2..] {
            d.push_str(&format!(
                " S {:.1} {:.1}, {:.1} {:.1}",
                control.x, control.y, point.x, point.y
            ));
        }
        let class = properties
            .as_deref()
            .and_then(|p| p.strip_prefix("edge:"))
            .unwrap_or("forward")
            .to_string();
        let marker = if head.1 {
            " marker-end=\"url(#arrowhead)\""
        } else {
            ""
        };
        let id = self.arrows;
        self.arrows += 1;
        let label = if text.is_empty() {
            String::new()
        } else {
            format!(
                "<text><textPath href=\"#edge-{id}\" startOffset=\"50%\" \
                 text-anchor=\"middle\">{}</textPath></text>",
                escape(text)
            )
        };
        self.edges.push_str(&format!(
            "<g class=\"edge {class}\"><path id=\"edge-{id}\" d=\"{d}\"{marker}/>{label}</g>\n"
        ));
    }

    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
}

/// `#rrggbb` of a `layout-rs` colour (kept as RGBA).
fn web_color(color: &Color) -> String {
    let rgba = color.to_web_color();
    rgba.get(..7).unwrap_or(&rgba).to_string()
}

/// `text` safe inside SVG or HTML text and attributes.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An operator's tooltip: its whole description, the schema it emits, where it is written
/// and its memory demand.
fn tooltip(n: &NodeView) -> String {
    let memory = n
        .memory
        .map(|m| {
            format!(
                "\nmemory: weight {}, at least {} pages",
                m.weight, m.min_pages
            )
        })
        .unwrap_or_default();
    escape(&format!(
        "{}\nemits {}\nat {}{memory}",
        n.detail, n.schema, n.location
    ))
}
