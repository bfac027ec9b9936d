//! Linear regression inline: the twin of `dsl-examples/linear_regression.pipe`. The
//! program implements `RecordsProgram`: each round adds up the gradient of the mean
//! squared error over the samples, and the round's end steps the model against it, until
//! no weight moves by more than 1e-13.
//!
//!   cargo run --example linear_regression_inline

use weir::iteration::{RecordsProgram, Totals};

/// A sample: three features and the value to fit.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Sample {
    pub x1: f64,
    pub x2: f64,
    pub x3: f64,
    pub y: f64,
}

/// The fitted model: `y = w1 x1 + w2 x2 + w3 x3 + b`.
#[derive(Debug, Clone, Default, PartialEq, weir::Record)]
pub struct Model {
    pub w1: f64,
    pub w2: f64,
    pub w3: f64,
    pub b: f64,
}

/// Gradient descent with a step of 1 on the mean squared error.
#[derive(Debug, Clone, Copy)]
pub struct LinearRegression;

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

impl RecordsProgram<Sample> for LinearRegression {
    type Model = Fit;
    type Totals = Gradient;
    type Output = Model;

    fn model(&self) -> Fit {
        Fit::default()
    }

    fn round(&self, s: &Sample, _position: u64, _round: u64, fit: &Fit, g: &mut Gradient) {
        let m = &fit.model;
        let error = m.w1 * s.x1 + m.w2 * s.x2 + m.w3 * s.x3 + m.b - s.y;
        g.g1 += error * s.x1;
        g.g2 += error * s.x2;
        g.g3 += error * s.x3;
        g.gb += error;
        g.n += 1.0;
    }

    fn round_end(&self, _round: u64, fit: &mut Fit, g: &Gradient) {
        if g.n > 0.0 {
            let m = &mut fit.model;
            m.w1 -= g.g1 / g.n;
            m.w2 -= g.g2 / g.n;
            m.w3 -= g.g3 / g.n;
            m.b -= g.gb / g.n;
            fit.moved = g.g1.abs().max(g.g2.abs()).max(g.g3.abs()).max(g.gb.abs()) / g.n;
        }
    }

    fn until(&self, _round: u64, fit: &Fit, _: &Gradient) -> bool {
        fit.moved < 1e-13
    }

    fn end(&self, fit: &Fit) -> Vec<Model> {
        vec![fit.model.clone()]
    }
}

/// The fitted model, one row.
pub fn pipeline() -> Result<Vec<Model>, weir::JobError> {
    weir::stream! {
        source csv::<Sample>("dsl-examples/data/regression_samples.csv")
        |> iterate(rounds(1000), LinearRegression)
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
