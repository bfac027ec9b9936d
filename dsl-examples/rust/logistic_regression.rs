//! Logistic regression inline: the twin of `dsl-examples/logistic_regression.pipe`. Each
//! round adds up the gradient of the log loss over the samples; the round's end steps
//! the model against it (a step of 4), until no weight moves by more than 1e-12.
//!
//!   cargo run --example logistic_regression_inline

use weir::iteration::{RecordsProgram, Totals};

/// A sample: three features and its class, 0 or 1.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Sample {
    pub x1: f64,
    pub x2: f64,
    pub x3: f64,
    pub label: u64,
}

/// The fitted model: `P(label = 1) = 1 / (1 + exp(-(w1 x1 + w2 x2 + w3 x3 + b)))`.
#[derive(Debug, Clone, Default, PartialEq, weir::Record)]
pub struct Model {
    pub w1: f64,
    pub w2: f64,
    pub w3: f64,
    pub b: f64,
}

/// Gradient descent on the log loss, unregularized.
#[derive(Debug, Clone, Copy)]
pub struct LogisticRegression;

/// The model as the rounds change it, and how far its last step moved it.
#[derive(Debug, Clone, Default)]
pub struct Fit {
    pub model: Model,
    pub moved: f64,
}

/// A round's gradient, summed over the samples, and their count.
#[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
pub struct Gradient {
    pub g1: f64,
    pub g2: f64,
    pub g3: f64,
    pub gb: f64,
    pub n: f64,
}

impl Totals for Gradient {
    fn merge(&mut self, part: &Self) {
        self.g1 += part.g1;
        self.g2 += part.g2;
        self.g3 += part.g3;
        self.gb += part.gb;
        self.n += part.n;
    }
}

/// The step: the log loss curves by at most a quarter of the features' spread.
const STEP: f64 = 4.0;

impl RecordsProgram<Sample> for LogisticRegression {
    type Model = Fit;
    type Totals = Gradient;
    type Output = Model;

    fn model(&self) -> Fit {
        Fit::default()
    }

    fn round(&self, s: &Sample, _position: u64, _round: u64, fit: &Fit, g: &mut Gradient) {
        let m = &fit.model;
        let p = 1.0 / (1.0 + (-(m.w1 * s.x1 + m.w2 * s.x2 + m.w3 * s.x3 + m.b)).exp());
        let error = p - s.label as f64;
        g.g1 += error * s.x1;
        g.g2 += error * s.x2;
        g.g3 += error * s.x3;
        g.gb += error;
        g.n += 1.0;
    }

    fn round_end(&self, _round: u64, fit: &mut Fit, g: &Gradient) {
        if g.n > 0.0 {
            let m = &mut fit.model;
            m.w1 -= STEP * g.g1 / g.n;
            m.w2 -= STEP * g.g2 / g.n;
            m.w3 -= STEP * g.g3 / g.n;
            m.b -= STEP * g.gb / g.n;
            let most = g.g1.abs().max(g.g2.abs()).max(g.g3.abs()).max(g.gb.abs());
            fit.moved = STEP * most / g.n;
        }
    }

    fn until(&self, _round: u64, fit: &Fit, _: &Gradient) -> bool {
        fit.moved < 1e-12
    }

    fn end(&self, fit: &Fit) -> Vec<Model> {
        vec![fit.model.clone()]
    }
}

/// The fitted model, one row.
pub fn pipeline() -> Result<Vec<Model>, weir::JobError> {
    weir::stream! {
        source csv::<Sample>("dsl-examples/data/logistic_samples.csv")
        |> iterate(rounds(20000), LogisticRegression)
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    println!("w1,w2,w3,b");
    for m in pipeline()? {
        println!("{},{},{},{}", m.w1, m.w2, m.w3, m.b);
    }
    Ok(())
}
