//! Typed guards for the closures of an inline pipeline. Generated code passes each closure
//! through the guard for its role, spanned at the closure, with a witness of its input
//! type: rustc then knows what the closure takes before reading it, and reports a closure
//! of the wrong shape, or a result without the needed trait, at the closure itself.

use std::marker::PhantomData;

use crate::layout::Layout;
use crate::process::{ProcessContext, Timer};
use crate::record::Record;
use crate::state::{AccWord, AggNumber, StateValue};

/// A witness of type `T`: no value, only the type, for inference.
pub struct Ty<T>(PhantomData<fn() -> T>);

impl<T> Ty<T> {
    /// The witness.
    #[inline]
    pub fn new() -> Self {
        Ty(PhantomData)
    }
}

impl<T> Default for Ty<T> {
    fn default() -> Self {
        Ty::new()
    }
}

impl<T> Clone for Ty<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ty<T> {}

/// The item type of an iterator source.
#[inline]
pub fn items<I: Iterator>(_: &I) -> Ty<I::Item> {
    Ty::new()
}

/// A CSV source's record type must be a [`Record`].
#[inline]
pub fn csv_records<T: Record>(_: Ty<T>) {}

/// A JSON-lines source's record type must deserialize.
#[inline]
pub fn jsonl_records<T: serde::de::DeserializeOwned>(_: Ty<T>) {}

/// `filter`: a condition on a record.
#[inline]
pub fn filter<R, F: FnMut(&R) -> bool>(_: Ty<R>, f: F) -> F {
    f
}

/// `map`: a record to the next.
#[inline]
pub fn map<R, O, F: FnMut(R) -> O>(_: Ty<R>, f: F) -> (F, Ty<O>) {
    (f, Ty::new())
}

/// `flat_map`: a record to any number of records.
#[inline]
pub fn flat_map<R, O, I: IntoIterator<Item = O>, F: FnMut(R) -> I>(
    _: Ty<R>,
    f: F,
) -> (F, Ty<O>, Ty<I>) {
    (f, Ty::new(), Ty::new())
}

/// `key_by` and the arguments of aggregates: a record to a value (a key, a number).
/// What the value must be is checked apart ([`layout`], [`number`], [`word`]), so that
/// rustc reports it at the closure.
#[inline]
pub fn value<R, K, F: FnMut(&R) -> K>(_: Ty<R>, f: F) -> (F, Ty<K>) {
    (f, Ty::new())
}

/// A key has a binary layout.
#[inline]
pub fn layout<K: Layout>(_: Ty<K>) {}

/// `sum`, `min`, `max` and `avg` take numbers.
#[inline]
pub fn number<A: AggNumber>(_: Ty<A>) {}

/// `first`, `last` and `reduce` keep values in accumulator words.
#[inline]
pub fn word<A: AccWord>(_: Ty<A>) {}

/// `count_distinct` counts numbers, bools and text.
#[inline]
pub fn distinct<A: crate::state::DistinctValue>(_: Ty<A>) {}

/// `reduce`'s combining closure.
#[inline]
pub fn combine<A, F: FnMut(A, A) -> A>(_: Ty<A>, f: F) -> F {
    f
}

/// `event_time`: a record to its timestamp in epoch milliseconds.
#[inline]
pub fn event_time<R, F: FnMut(&R) -> i64>(_: Ty<R>, f: F) -> F {
    f
}

/// `for_each`: where each record goes.
#[inline]
pub fn for_each<R, F: FnMut(R)>(_: Ty<R>, f: F) -> F {
    f
}

/// `sink csv(...)`: the records must be CSV rows.
#[inline]
pub fn csv_sink<R: Record>(_: Ty<R>) {}

/// `sink jsonl(...)`: the records must serialize.
#[inline]
pub fn jsonl_sink<R: serde::Serialize>(_: Ty<R>) {}

/// A stream that feeds several operators hands each a clone.
#[inline]
pub fn cloned<R: Clone>(_: Ty<R>) {}

/// `union`: every input carries records of one type. Called with the witnesses of two
/// inputs' types, spanned at the second input's name, so a mismatch names both types there.
#[inline]
pub fn union_input<T>(_: Ty<T>, _: Ty<T>) {}

/// The two sides of a join have keys of one type: spanned at the other stream's name, so a
/// mismatch names both types there.
#[inline]
pub fn join_keys<K>(_: Ty<K>, _: Ty<K>) {}

/// `process`'s `on_record`: the record, the key's state and the context. The state's and
/// the emitted records' types come from the closure (its annotations and its `emit`s).
#[inline]
pub fn on_record<R, K, S, O, F>(_: Ty<R>, _: Ty<K>, f: F) -> (F, Ty<O>, Ty<S>)
where
    F: FnMut(&R, &mut S, &mut ProcessContext<'_, K, O>),
{
    (f, Ty::new(), Ty::new())
}

/// `process`'s `on_timer`: the timer firing, the key's state and the context, of the
/// types `on_record` has.
#[inline]
pub fn on_timer<K, S, O, F>(_: Ty<K>, _: Ty<S>, _: Ty<O>, f: F) -> F
where
    F: FnMut(Timer, &mut S, &mut ProcessContext<'_, K, O>),
{
    f
}

/// A process's state is kept encoded between records, starts at its `Default`, and a key
/// whose state is back at the default is forgotten.
#[inline]
pub fn process_state<S: StateValue + Default + PartialEq>(_: Ty<S>) {}

/// `iterate`'s `graph(|e| ...)`: a record to its edge, `(src, dst)` or `(src, dst, value)`.
#[inline]
pub fn iterate_edges<R, G, F>(_: Ty<R>, f: F) -> (F, Ty<G>)
where
    G: crate::iteration::GraphEdge,
    F: FnMut(&R) -> G,
{
    (f, Ty::new())
}

/// `iterate`'s program over a graph of edges `G`: it must take what the edges carry. Each
/// worker runs a clone of it.
#[inline]
#[allow(clippy::type_complexity)]
pub fn vertex_program<G, P>(
    _: Ty<G>,
    program: P,
) -> (impl FnMut() -> P + Clone, Ty<P>, Ty<P::Output>)
where
    G: crate::iteration::GraphEdge,
    P: crate::iteration::VertexProgram<Edge = G::Value> + Clone,
{
    (move || program.clone(), Ty::new(), Ty::new())
}

/// `iterate`'s program over records `R`, which it keeps between rounds by their layout.
/// It runs once, on one worker; a clone of it is made there.
#[inline]
#[allow(clippy::type_complexity)]
pub fn records_program<R, P>(
    _: Ty<R>,
    program: P,
) -> (impl FnMut() -> P + Clone, Ty<P>, Ty<P::Output>)
where
    R: Layout,
    P: crate::iteration::RecordsProgram<R> + Clone,
{
    (move || program.clone(), Ty::new(), Ty::new())
}
