//! The physical plan: how a job runs on several workers, decided once by
//! `passes::PhysicalPlanningPass` and only read afterwards (by codegen and `weir explain`).
//!
//! The logical graph says which edges are keyed (`Partitioning::Hash`); the physical plan
//! says which of them records cross between workers, whether they are folded first, how
//! the sources are read, and whether a window fires on the worker that read its records.

use petgraph::graph::NodeIndex;

use super::KeySpec;

/// How the workers of a parallel run read a job's sources: the runtime's `InputSplit`,
/// which documents each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputSplit {
    /// Worker 0 reads everything in order: results depend on arrival order.
    WorkerZero,
    /// Every worker reads a slice of every file: no node's results depend on arrival order.
    Slices,
    /// Every worker reads a slice of the one event-time source, with one worker's lateness.
    EventTimeSlices,
}

impl InputSplit {
    /// The variant's name, which is also the runtime's.
    pub fn name(self) -> &'static str {
        match self {
            InputSplit::WorkerZero => "WorkerZero",
            InputSplit::Slices => "Slices",
            InputSplit::EventTimeSlices => "EventTimeSlices",
        }
    }

    /// One line for `weir explain`.
    pub fn describe(self) -> &'static str {
        match self {
            InputSplit::WorkerZero => {
                "worker 0 reads every source in order (results depend on arrival order)"
            }
            InputSplit::Slices => {
                "each worker reads a slice of every file (or generates its share of a Nexmark run)"
            }
            InputSplit::EventTimeSlices => {
                "each worker reads a slice of the file, its watermark starting at the largest \
                 event time before its slice"
            }
        }
    }
}

/// What a keyed operator asks of the records arriving on one input port (as DataFusion's
/// `required_input_distribution`): the physical plan puts an exchange on a keyed edge
/// only where the operator it feeds asks for its records by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputDistribution<'a> {
    /// Any worker's records will do: a stateless step keeps records where they are.
    Any,
    /// Every record of a key on the worker owning the key's group; `KeySpec` is the key
    /// (fields of a `.pipe` record, or an inline operator's key closure).
    ByKeyGroup(&'a KeySpec),
}

/// How an operator's partial results may be folded on the worker that read its records,
/// before they cross an exchange to it (Flink's local aggregation): only where they merge
/// exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialResults {
    /// One partial result per key (`Combiner`).
    PerKey,
    /// One partial result per key and window of a tumbling or sliding event-time window
    /// (`WindowCombiner`); folded only where the reading worker's watermark judges
    /// lateness as one worker would (event-time slices, straight from the source).
    PerWindow,
}

/// What crosses an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    /// Each record, in the row layout.
    Records,
    /// Partial results folded on the reading worker (see [`PartialResults`]).
    Folded(PartialResults),
    /// Nothing while records are read: the window fires on the worker that read its
    /// records, in time order, and only the windows two slices share cross at the end
    /// (`weir_runtime::parallel::finish_in_time_order`).
    TimeOrdered,
}

/// One exchange: a keyed edge records cross to the worker owning their key group.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The node records leave.
    pub from: NodeIndex,
    /// Its output port.
    pub from_port: usize,
    /// The node records reach.
    pub to: NodeIndex,
    /// Its input port.
    pub to_port: usize,
    /// The key that routes them.
    pub key: KeySpec,
    /// What crosses.
    pub crossing: Crossing,
    /// Whether only sources feed it (no exchange upstream): a worker whose sources are
    /// done ends it for everyone (`JobSpec::source_fed`).
    pub source_fed: bool,
}

impl Exchange {
    /// Whether records are folded into a combiner before they cross.
    pub fn folds(&self) -> bool {
        matches!(self.crossing, Crossing::Folded(_))
    }
}

/// The physical plan of a job: see the module documentation.
#[derive(Debug, Clone)]
pub struct PhysicalPlan {
    /// How the sources are read on several workers.
    pub inputs: InputSplit,
    /// The exchanges, numbered by position (in edge order); every other edge is forward:
    /// its records stay on their worker.
    pub exchanges: Vec<Exchange>,
    /// The nodes with a feedback edge (iterations): each has a channel of its own, numbered
    /// after the exchanges, for what its workers tell each other between rounds.
    pub rounds: Vec<NodeIndex>,
}

impl PhysicalPlan {
    /// The number of the exchange from `from`'s output `from_port` to `to`'s input
    /// `to_port`, if that edge is one.
    pub fn exchange_id(
        &self,
        from: NodeIndex,
        from_port: usize,
        to: NodeIndex,
        to_port: usize,
    ) -> Option<usize> {
        self.exchanges.iter().position(|x| {
            x.from == from && x.from_port == from_port && x.to == to && x.to_port == to_port
        })
    }

    /// The channel node `n`'s workers talk through between rounds, if it iterates.
    pub fn round_channel(&self, n: NodeIndex) -> Option<usize> {
        self.rounds
            .iter()
            .position(|&r| r == n)
            .map(|i| self.exchanges.len() + i)
    }

    /// Exchanges and round channels: what the job's exchange carries.
    pub fn channels(&self) -> usize {
        self.exchanges.len() + self.rounds.len()
    }

    /// The exchange whose window runs in time order, if any.
    pub fn time_ordered(&self) -> Option<usize> {
        self.exchanges
            .iter()
            .position(|x| x.crossing == Crossing::TimeOrdered)
    }

    /// How many exchanges fold records before they cross.
    pub fn folded(&self) -> usize {
        self.exchanges.iter().filter(|x| x.folds()).count()
    }
}
