//! Linear regression on a stream inline: the twin of
//! `dsl-examples/linear_regression_windows.pipe`. The program of
//! `linear_regression.rs`'s kind runs over each minute's samples alone once the
//! watermark passes the minute's end (`end_of_window` emits the minute's bounds with the
//! model), and each query of the minute is predicted by its minute's model through a
//! window join.
//!
//!   cargo run --example linear_regression_windows_inline

use weir::iteration::{RecordsProgram, Totals, WindowBounds};

/// A timed sample: three features and the value to fit.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Sample {
    pub ts: i64,
    pub x1: f64,
    pub x2: f64,
    pub x3: f64,
    pub y: f64,
}

/// A query to predict.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Query {
    pub ts: i64,
    pub id: u64,
    pub x1: f64,
    pub x2: f64,
    pub x3: f64,
}

/// A minute's model.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct WindowModel {
    pub window_start: i64,
    pub window_end: i64,
    pub w1: f64,
    pub w2: f64,
    pub w3: f64,
    pub b: f64,
}

/// A query's prediction.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Prediction {
    pub id: u64,
    pub ts: i64,
    pub prediction: f64,
}

/// Gradient descent with a step of 1 on the mean squared error, per window.
#[derive(Debug, Clone, Copy)]
pub struct WindowRegression;

/// The weights and bias as the rounds change them, and how far the last step moved.
#[derive(Debug, Clone, Default)]
pub struct Fit {
    pub w: [f64; 4],
    pub moved: f64,
}

/// A round's gradient, summed over the window's samples, and their count.
#[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
pub struct Gradient {
    pub g: [f64; 4],
    pub n: f64,
}

impl Totals for Gradient {
    fn merge(&mut self, part: &Self) {
        for (g, p) in self.g.iter_mut().zip(part.g) {
            *g += p;
        }
        self.n += part.n;
    }
}

impl RecordsProgram<Sample> for WindowRegression {
    type Model = Fit;
    type Totals = Gradient;
    type Output = WindowModel;

    fn model(&self) -> Fit {
        Fit::default()
    }

    fn round(&self, s: &Sample, _position: u64, _round: u64, fit: &Fit, g: &mut Gradient) {
        let [w1, w2, w3, b] = fit.w;
        let error = w1 * s.x1 + w2 * s.x2 + w3 * s.x3 + b - s.y;
        g.g[0] += error * s.x1;
        g.g[1] += error * s.x2;
        g.g[2] += error * s.x3;
        g.g[3] += error;
        g.n += 1.0;
    }

    fn round_end(&self, _round: u64, fit: &mut Fit, g: &Gradient) {
        if g.n > 0.0 {
            for (w, d) in fit.w.iter_mut().zip(g.g) {
                *w -= d / g.n;
            }
            fit.moved = g.g.iter().fold(0.0f64, |m, d| m.max(d.abs())) / g.n;
        }
    }

    fn until(&self, _round: u64, fit: &Fit, _: &Gradient) -> bool {
        fit.moved < 1e-13
    }

    fn end(&self, _: &Fit) -> Vec<WindowModel> {
        Vec::new()
    }

    fn end_of_window(&self, window: WindowBounds, fit: &Fit) -> Vec<WindowModel> {
        let [w1, w2, w3, b] = fit.w;
        vec![WindowModel {
            window_start: window.start,
            window_end: window.end,
            w1,
            w2,
            w3,
            b,
        }]
    }
}

/// The models, one a minute, and the predictions, on `workers` workers.
pub fn pipeline_on(workers: usize) -> Result<(Vec<WindowModel>, Vec<Prediction>), weir::JobError> {
    weir::stream! {
        let samples = source csv::<Sample>("dsl-examples/data/regression_stream.csv")
            with event_time(|s: &Sample| s.ts), watermark(bounded 5s);
        let queries = source csv::<Query>("dsl-examples/data/regression_queries.csv")
            with event_time(|q: &Query| q.ts), watermark(bounded 5s);
        let models = samples
            |> window(tumbling 1m)
            |> iterate(rounds(1000), WindowRegression);
        models |> collect();
        let by_minute = models |> key_by(|m: &WindowModel| m.window_start);
        queries
        |> key_by(|q: &Query| q.ts - q.ts.rem_euclid(60_000))
        |> window(tumbling 1m)
        |> join(by_minute)
        |> map(|(q, m): (Query, WindowModel)| Prediction {
            id: q.id,
            ts: q.ts,
            prediction: m.w1 * q.x1 + m.w2 * q.x2 + m.w3 * q.x3 + m.b,
        })
        |> collect()
    }
    .run_with(weir::JobConfig::default().parallelism(workers))
}

/// The models, one a minute, and the predictions.
pub fn pipeline() -> Result<(Vec<WindowModel>, Vec<Prediction>), weir::JobError> {
    pipeline_on(1)
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    let (models, predictions) = pipeline()?;
    println!("window_start,window_end,w1,w2,w3,b");
    for m in models {
        println!(
            "{},{},{},{},{},{}",
            m.window_start, m.window_end, m.w1, m.w2, m.w3, m.b
        );
    }
    println!("id,ts,prediction");
    for p in predictions {
        println!("{},{},{}", p.id, p.ts, p.prediction);
    }
    Ok(())
}
