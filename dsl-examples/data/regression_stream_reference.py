"""Makes the data of the streaming linear regression example (issue 30:
dsl-examples/linear_regression_windows.pipe) and its expected outputs, computed
independently of weir with numpy's least squares. Five minutes of samples whose true
model drifts each minute, and queries to predict in each minute. Run from the
repository root with numpy installed:

    python3 dsl-examples/data/regression_stream_reference.py

It writes dsl-examples/data/{regression_stream,regression_queries}.csv and
dsl-examples/expected/{regression_window_models,regression_predictions}.csv, the same
bytes on every run (seeded).
"""

import csv

import numpy as np

DATA = "dsl-examples/data"
EXPECTED = "dsl-examples/expected"
MINUTE = 60_000
START = 1_700_000_040_000  # a whole minute, in epoch milliseconds


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow([repr(v) if isinstance(v, float) else v for v in row])


def main():
    rng = np.random.default_rng(30)
    samples, queries, models, predictions = [], [], [], []
    for k in range(5):
        start = START + k * MINUTE
        truth = np.array([2.0 + 0.5 * k, -1.0 + 0.2 * k, 0.5, 3.0 - 0.3 * k])
        times = np.sort(rng.integers(start, start + MINUTE, 400))
        xs = rng.uniform(-1.0, 1.0, (400, 3))
        ys = xs @ truth[:3] + truth[3] + rng.normal(0.0, 0.1, 400)
        for t, x, y in zip(times, xs, ys):
            samples.append((int(t), float(x[0]), float(x[1]), float(x[2]), float(y)))
        a = np.hstack([xs, np.ones((400, 1))])
        fit, *_ = np.linalg.lstsq(a, ys, rcond=None)
        models.append((start, start + MINUTE) + tuple(float(w) for w in fit))
        for i in range(10):
            t = int(rng.integers(start, start + MINUTE))
            q = rng.uniform(-1.0, 1.0, 3)
            qid = k * 10 + i
            queries.append((t, qid, float(q[0]), float(q[1]), float(q[2])))
            predictions.append((qid, t, float(q @ fit[:3] + fit[3])))
    queries.sort()
    write(f"{DATA}/regression_stream.csv", ["ts", "x1", "x2", "x3", "y"], samples)
    write(f"{DATA}/regression_queries.csv", ["ts", "id", "x1", "x2", "x3"], queries)
    write(
        f"{EXPECTED}/regression_window_models.csv",
        ["window_start", "window_end", "w1", "w2", "w3", "b"],
        models,
    )
    write(
        f"{EXPECTED}/regression_predictions.csv",
        ["id", "ts", "prediction"],
        sorted(predictions),
    )


if __name__ == "__main__":
    main()
