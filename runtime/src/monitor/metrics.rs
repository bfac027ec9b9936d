//! `/metrics`: the live figures in the OpenMetrics text format, for Prometheus. Written by
//! the `prometheus-client` crate from a registry made anew at each scrape, from the same
//! view the page shows (so the two never disagree).

use prometheus_client::encoding::text::encode as encode_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::JobView;

type Labels = Vec<(String, String)>;

/// A family of counters or gauges, and how to register it.
struct Series<M> {
    family: Family<Labels, M>,
}

impl<M: prometheus_client::metrics::TypedMetric + Default + Clone + 'static> Series<M>
where
    Family<Labels, M>: prometheus_client::registry::Metric,
{
    fn new() -> Self {
        Series {
            family: Family::default(),
        }
    }

    fn register(self, registry: &mut Registry, name: &str, help: &str) {
        registry.register(name, help, self.family);
    }
}

fn labels(key: &str, value: &str) -> Labels {
    vec![(key.to_string(), value.to_string())]
}

/// Saturates at `i64::MAX`: a gauge holds signed numbers.
fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The view's figures as OpenMetrics text, ending in `# EOF`.
pub fn encode(view: &JobView) -> String {
    let mut registry = Registry::with_prefix("weir");
    let job = labels("job", &view.job);
    let up = Series::<Gauge>::new();
    up.family
        .get_or_create(&job)
        .set(i64::from(view.state == "running"));
    up.register(
        &mut registry,
        "running",
        "1 while the job runs, 0 once it has ended",
    );
    let uptime = Series::<Gauge>::new();
    uptime
        .family
        .get_or_create(&job)
        .set(signed(view.uptime_ms / 1000));
    uptime.register(
        &mut registry,
        "uptime_seconds",
        "Time since the run started",
    );
    let managed = Series::<Gauge>::new();
    managed
        .family
        .get_or_create(&labels("kind", "in_use"))
        .set(signed(view.managed_in_use_bytes));
    managed
        .family
        .get_or_create(&labels("kind", "peak"))
        .set(signed(view.managed_peak_bytes));
    managed
        .family
        .get_or_create(&labels("kind", "budget"))
        .set(signed(view.memory_bytes));
    managed.register(
        &mut registry,
        "managed_memory_bytes",
        "The job's managed memory",
    );

    encode_operators(view, &mut registry);
    encode_sources(view, &mut registry);

    let queued = Series::<Gauge>::new();
    for x in &view.exchange {
        queued
            .family
            .get_or_create(&labels("worker", &x.worker.to_string()))
            .set(signed(x.queued_bytes));
    }
    queued.register(
        &mut registry,
        "exchange_queued_bytes",
        "Bytes waiting in a worker's outgoing exchange buffers (backpressure)",
    );
    if let Some(c) = &view.checkpoints {
        let taken = Series::<Counter>::new();
        taken.family.get_or_create(&job).inc_by(c.taken);
        taken.register(&mut registry, "checkpoints", "Checkpoints completed");
        let failed = Series::<Counter>::new();
        failed.family.get_or_create(&job).inc_by(c.failed);
        failed.register(
            &mut registry,
            "checkpoint_failures",
            "Checkpoints that failed",
        );
        let pause = Series::<Gauge>::new();
        pause
            .family
            .get_or_create(&job)
            .set(signed(c.longest_pause_ms));
        pause.register(
            &mut registry,
            "checkpoint_longest_pause_milliseconds",
            "The longest time records waited for a checkpoint",
        );
        let last = Series::<Gauge>::new();
        last.family.get_or_create(&job).set(signed(c.last_pause_ms));
        last.register(
            &mut registry,
            "checkpoint_last_pause_milliseconds",
            "How long records waited for the last checkpoint",
        );
        let size = Series::<Gauge>::new();
        size.family.get_or_create(&job).set(signed(c.last_bytes));
        size.register(
            &mut registry,
            "checkpoint_size_bytes",
            "Bytes of the last checkpoint's state",
        );
    }
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = encode_text(&mut text, &registry);
    text
}

fn encode_operators(view: &JobView, registry: &mut Registry) {
    let (records_in, records_out) = (Series::<Counter>::new(), Series::<Counter>::new());
    let (in_use, peak, budget) = (
        Series::<Gauge>::new(),
        Series::<Gauge>::new(),
        Series::<Gauge>::new(),
    );
    let spilled = Series::<Counter>::new();
    for op in &view.operators {
        let l = labels("operator", op.name);
        records_in.family.get_or_create(&l).inc_by(op.records_in);
        records_out.family.get_or_create(&l).inc_by(op.records_out);
        in_use.family.get_or_create(&l).set(signed(op.in_use_bytes));
        peak.family.get_or_create(&l).set(signed(op.peak_bytes));
        budget.family.get_or_create(&l).set(signed(op.budget_bytes));
        spilled.family.get_or_create(&l).inc_by(op.spilled_bytes);
    }
    records_in.register(
        registry,
        "operator_records_in",
        "Records a stateful operator received",
    );
    records_out.register(
        registry,
        "operator_records_out",
        "Records a stateful operator emitted",
    );
    in_use.register(
        registry,
        "operator_memory_bytes",
        "Managed memory an operator holds",
    );
    peak.register(
        registry,
        "operator_memory_peak_bytes",
        "The most an operator held at once",
    );
    budget.register(
        registry,
        "operator_budget_bytes",
        "An operator's share of --memory",
    );
    spilled.register(
        registry,
        "operator_spilled_bytes",
        "Bytes an operator wrote to spill files",
    );
}

fn encode_sources(view: &JobView, registry: &mut Registry) {
    let (records, bad, dead) = (
        Series::<Counter>::new(),
        Series::<Counter>::new(),
        Series::<Counter>::new(),
    );
    let lag = Series::<Gauge>::new();
    for s in &view.sources {
        let l = labels("source", &s.name);
        records.family.get_or_create(&l).inc_by(s.records);
        bad.family.get_or_create(&l).inc_by(s.bad);
        dead.family.get_or_create(&l).inc_by(s.dead_letters);
        if let Some(ms) = s.watermark_lag_ms {
            lag.family.get_or_create(&l).set(ms);
        }
    }
    records.register(registry, "source_records", "Records a source read");
    bad.register(
        registry,
        "source_bad_records",
        "Records a source refused (its bad-record policy)",
    );
    dead.register(
        registry,
        "source_dead_letters",
        "Refused records written to the source's dead-letter file",
    );
    lag.register(
        registry,
        "watermark_lag_milliseconds",
        "Wall-clock time less the source's watermark",
    );
}
