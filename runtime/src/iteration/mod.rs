//! Iterations (`iterate` in `.pipe`, and `stream!`'s programs: `program.rs`): what the
//! generated rounds run over. The records
//! arrive into [`WordRows`] while the input lasts; at its end a graph iteration builds its
//! [`Graph`] from them (compressed sparse rows), and every round visits each element (a
//! record, or a vertex) in order. Vertex values and messages ([`Messages`]) are arrays in
//! page runs: an element's state is an index away, as in a hand-written loop. Everything
//! counts against the operator's budget; an iteration does not spill (each round reads
//! all of it), so a budget too small is an error that names the `--memory` that fits.

mod channel;
mod dense_ids;
mod encoded_rows;
mod graph;
mod in_edges;
mod messages;
mod numbering;
mod partitioned;
mod program;
mod program_rounds;
mod rows;
mod sorted_map;
mod window_rows;

pub use channel::{JobChannel, RoundChannel, RoundInbox};
pub use encoded_rows::EncodedRows;
pub use graph::Graph;
pub use in_edges::InEdges;
pub use messages::{GatheredMessages, Messages};
pub use program::{
    Combine, EdgeValue, GraphEdge, MessageValue, RecordsProgram, RecordsProgramOf, Round, Totals,
    Vertex, VertexProgram, VertexProgramOf, WindowBounds,
};
pub use program_rounds::{
    edge_width, push_edge, run_records_program, run_vertex_program, RecordsRounds, VertexRounds,
};
pub use rows::WordRows;
pub use sorted_map::{MapKey, SortedMap};
pub use window_rows::{WindowRows, WindowStore};
