"""Makes the data of the iteration examples (issue 30) and their expected outputs, each
computed independently of weir: networkx for the graphs, numpy for the least-squares fit
and Newton's method for the logistic fit (cross-checked with scikit-learn), and a plain
Lloyd's loop for k-means. Run from the repository root with networkx, numpy and
scikit-learn installed:

    python3 dsl-examples/data/iterations_reference.py

It writes dsl-examples/data/{graph_edges,weighted_edges,regression_samples,
logistic_samples,kmeans_points}.csv and dsl-examples/expected/*.csv, the same bytes on
every run (seeded).
"""

import csv
import os

import networkx as nx
import numpy as np

DATA = "dsl-examples/data"
EXPECTED = "dsl-examples/expected"


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow([repr(v) if isinstance(v, float) else v for v in row])


def graph_edges(rng):
    """A directed graph of 300 nodes: a few components, nodes without out-edges, no
    self-loops, no edge twice."""
    edges = set()
    for _ in range(1500):
        a = int(rng.integers(0, 240))
        # Nodes 240..299 form small components of their own.
        b = int(rng.integers(0, 240))
        if a != b:
            edges.add((a, b))
    for c in range(240, 300, 6):
        for i in range(5):
            edges.add((c + i, c + i + 1))
    return sorted(edges)


def pagerank(edges):
    g = nx.DiGraph()
    g.add_edges_from(edges)
    # Converged far past the example's 1e-10: the ranks it must match to 1e-8.
    ranks = nx.pagerank(g, alpha=0.85, max_iter=10_000, tol=1e-15)
    return sorted(ranks.items())


def components(edges):
    g = nx.Graph()
    g.add_edges_from(edges)
    rows = []
    for comp in nx.connected_components(g):
        name = min(comp)
        rows.extend((n, name) for n in comp)
    return sorted(rows)


def weighted_edges(rng):
    edges = {}
    for _ in range(1500):
        a, b = int(rng.integers(0, 300)), int(rng.integers(0, 300))
        if a != b and (a, b) not in edges:
            edges[(a, b)] = float(np.round(rng.uniform(0.0, 10.0), 6))
    return sorted((a, b, w) for (a, b), w in edges.items())


def distances(edges):
    g = nx.DiGraph()
    g.add_weighted_edges_from(edges)
    lengths = nx.single_source_dijkstra_path_length(g, 0)
    return sorted((node, float(d)) for node, d in lengths.items())


def regression(rng):
    x = rng.normal(size=(1000, 3))
    y = x @ np.array([2.5, -1.25, 0.5]) + 3.0 + rng.normal(scale=0.3, size=1000)
    a = np.hstack([x, np.ones((1000, 1))])
    fit, *_ = np.linalg.lstsq(a, y, rcond=None)
    return [tuple(float(v) for v in row) + (float(t),) for row, t in zip(x, y)], [
        tuple(float(v) for v in fit)
    ]


def logistic(rng):
    x = rng.normal(size=(1000, 3))
    logit = x @ np.array([1.5, -2.0, 0.75]) - 0.5
    labels = (rng.uniform(size=1000) < 1 / (1 + np.exp(-logit))).astype(int)
    a = np.hstack([x, np.ones((1000, 1))])
    w = np.zeros(4)
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a @ w)))
        grad = a.T @ (labels - p)
        hess = a.T @ (a * (p * (1 - p))[:, None])
        step = np.linalg.solve(hess, grad)
        w += step
        if np.max(np.abs(step)) < 1e-14:
            break
    from sklearn.linear_model import LogisticRegression

    check = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000).fit(x, labels)
    sk = np.append(check.coef_[0], check.intercept_[0])
    assert np.max(np.abs(sk - w)) < 1e-5, (sk, w)
    rows = [tuple(float(v) for v in row) + (int(l),) for row, l in zip(x, labels)]
    return rows, [tuple(float(v) for v in w)]


def kmeans(rng):
    centres = np.array([[0, 0], [8, 1], [-6, 7], [3, -9], [12, 12]], dtype=float)
    points = np.vstack([c + rng.normal(scale=2.0, size=(400, 2)) for c in centres])
    rng.shuffle(points)
    centroids = points[:5].copy()
    assigned = None
    for _ in range(100):
        # Nearest centroid by squared distance; ties to the lower cluster number.
        d = ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        nearest = d.argmin(axis=1)
        if assigned is not None and (nearest == assigned).all():
            break
        assigned = nearest
        for k in range(5):
            members = points[assigned == k]
            if len(members):
                centroids[k] = members.mean(axis=0)
    rows = [tuple(float(v) for v in p) for p in points]
    return rows, [(k, float(c[0]), float(c[1])) for k, c in enumerate(centroids)]


def main():
    rng = np.random.default_rng(30)
    os.makedirs(EXPECTED, exist_ok=True)
    edges = graph_edges(rng)
    write(f"{DATA}/graph_edges.csv", ["src", "dst"], edges)
    write(f"{EXPECTED}/pagerank_ranks.csv", ["node", "rank"], pagerank(edges))
    write(f"{EXPECTED}/connected_components.csv", ["node", "component"], components(edges))
    weighted = weighted_edges(rng)
    write(f"{DATA}/weighted_edges.csv", ["src", "dst", "weight"], weighted)
    write(f"{EXPECTED}/shortest_paths.csv", ["node", "distance"], distances(weighted))
    samples, model = regression(rng)
    write(f"{DATA}/regression_samples.csv", ["x1", "x2", "x3", "y"], samples)
    write(f"{EXPECTED}/linear_regression.csv", ["w1", "w2", "w3", "b"], model)
    samples, model = logistic(rng)
    write(f"{DATA}/logistic_samples.csv", ["x1", "x2", "x3", "label"], samples)
    write(f"{EXPECTED}/logistic_regression.csv", ["w1", "w2", "w3", "b"], model)
    points, centroids = kmeans(rng)
    write(f"{DATA}/kmeans_points.csv", ["x", "y"], points)
    write(f"{EXPECTED}/kmeans_centroids.csv", ["cluster", "x", "y"], centroids)


if __name__ == "__main__":
    main()
