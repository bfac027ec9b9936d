//! Managed memory: fixed-size pages, the pool that owns them, and the division of a job's
//! memory among its stateful operators.
//!
//! Every byte of operator state comes from here, so that state can be measured, bounded and
//! (later) spilled and checkpointed page by page.

mod budget;
mod page_run;
mod pool;
mod segment;
mod size;

pub use budget::{divide_memory, MemoryDemand, MemoryPlanError};
pub use page_run::PageRun;
pub use pool::{OperatorMemory, OperatorUsage, SegmentPool};
pub use segment::MemorySegment;
pub use size::{format_bytes, format_bytes_arg, parse_bytes, ByteSizeError};

/// The default page size: 32 KiB, as in Flink's managed memory.
pub const DEFAULT_PAGE_SIZE: usize = 32 * 1024;

/// The default job memory when `--memory` is not given: 256 MiB.
pub const DEFAULT_MEMORY: u64 = 256 * 1024 * 1024;
