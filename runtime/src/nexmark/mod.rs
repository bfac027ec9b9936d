//! Nexmark's persons, auctions and bids, generated in the job: the benchmark Flink,
//! RisingWave, Arroyo and Feldera publish, with no Kafka and no files.
//!
//! The events are those of the `nexmark` crate (the generator RisingWave maintains) for
//! the same settings, field for field; [`NexmarkSpec`] fixes its base time so that runs
//! are reproducible. The crate builds every field of every event in fresh `String`s; a
//! job reads one kind of event and often few fields, so [`EventMaker`] builds one kind
//! into buffers it reuses, leaving out the long random `extra` text when the job does not
//! read it (it is drawn last, so the other fields do not change). Tests compare the two
//! generators' events.
//!
//! * [`spec`]: the settings, and which events a run of them holds.
//! * [`ids`]: the person and auction ids an event refers to.
//! * [`events`]: the three kinds of event, built into reused buffers.
//! * `records`: the events as records of an inline pipeline (layout and CSV).
//! * [`source`]: a job's source of one kind, over one worker's share of the events.

pub mod events;
pub mod ids;
mod records;
pub mod source;
pub mod spec;

#[cfg(test)]
mod crate_agreement;

pub use events::{Auction, Bid, EventMaker, Person};
pub use source::NexmarkSource;
pub use spec::{EventKind, NexmarkSpec};
