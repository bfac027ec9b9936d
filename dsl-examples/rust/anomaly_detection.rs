//! Anomaly detection inline: the twin of `dsl-examples/anomaly_detection.pipe`. Each
//! sensor keeps Welford's running count, mean and squared deviations in a state struct; a
//! processing-time timer an hour after its latest reading forgets a quiet sensor. Run on
//! the replayed clock (as `--clock replay`), so that the recorded hour of silence passes.
//!
//!   cargo run --example anomaly_detection_inline

use weir::process::{ProcessContext, Timer};
use weir::time::ClockMode;

/// A sensor reading.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Reading {
    pub ts: i64,
    pub sensor: String,
    pub value: f64,
}

/// A reading more than 3 standard deviations from its sensor's mean so far.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Anomaly {
    pub sensor: String,
    pub ts: i64,
    pub value: f64,
    pub mean: f64,
    pub sd: f64,
}

/// Welford's running statistics of one sensor, and when it counts as idle.
#[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
pub struct Stats {
    pub count: u64,
    pub mean: f64,
    pub m2: f64,
    pub idle_at: i64,
}

const HOUR: i64 = 3_600_000;

/// The anomalies, in the order the job finds them.
pub fn pipeline() -> Result<Vec<Anomaly>, weir::JobError> {
    weir::stream! {
        source csv::<Reading>("dsl-examples/data/sensor_readings.csv")
            with event_time(|r: &Reading| r.ts), watermark(ascending)
        |> key_by(|r: &Reading| r.sensor.clone())
        |> process(
            on_record(|r: &Reading, st: &mut Stats, ctx: &mut ProcessContext<String, Anomaly>| {
                if st.count >= 10 {
                    let sd = (st.m2 / (st.count - 1) as f64).sqrt();
                    if (r.value - st.mean).abs() > 3.0 * sd {
                        ctx.emit(Anomaly {
                            sensor: r.sensor.clone(),
                            ts: r.ts,
                            value: r.value,
                            mean: st.mean,
                            sd,
                        });
                    }
                }
                st.count += 1;
                let delta = r.value - st.mean;
                st.mean += delta / st.count as f64;
                st.m2 += delta * (r.value - st.mean);
                if st.count > 1 {
                    ctx.delete_processing_timer_at(st.idle_at);
                }
                st.idle_at = ctx.processing_time() + HOUR;
                ctx.processing_timer_at(st.idle_at);
            }),
            on_timer(|_: Timer, st: &mut Stats, _: &mut ProcessContext<String, Anomaly>| {
                *st = Stats::default();
            }),
        )
        |> collect()
    }
    .run_with(weir::JobConfig::default().clock(ClockMode::Replay))
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    println!("sensor,ts,value,mean,sd");
    for a in pipeline()? {
        println!("{},{},{},{},{}", a.sensor, a.ts, a.value, a.mean, a.sd);
    }
    Ok(())
}
