#!/usr/bin/env python3
"""Times our classical models (`landslide classical bench`) beside scikit-learn's on the
same synthetic table, one after the other on this machine, and prints fit and predict
seconds, their ratios (scikit-learn time / ours: above 1 means we are faster) and both
test AUCs.

    swift build -c release --product landslide
    /work/venv-sk/bin/python tools/bench/classical_compare.py --threads 2 [--model knn ...]
    /work/venv-sk/bin/python tools/bench/classical_compare.py --quick --binary .build/debug/landslide

The table: ROWS training rows and up to 1,000,000 distinct query rows of COLUMNS Float32
uniform in [0, 1), labelled 1 with probability sigmoid(-1 + sum_j w_j (x_j - 1/2)),
w_j = +-4/sqrt(j+1) alternating, written as x.npy, y.npy, q.npy, qy.npy into a temporary
directory (or --data) that both sides read. A model's QUERIES predicted rows (default
1 M, the forest 10 M) go over the distinct rows in passes, on both sides alike; the AUC
is that of the distinct rows. Both sides get --threads: ours as compute threads,
scikit-learn as n_jobs and as its BLAS and OpenMP thread limit (threadpoolctl).

What is compared, with the same hyperparameters on both sides:
  knn                  k = 100 (--neighbours), Euclidean, uniform weights, brute force
                       (KNeighborsClassifier(algorithm='brute')); fit is storing the table.
  random_forest        100 trees (--trees), max_features sqrt, bootstrap, grown to purity
                       (RandomForestClassifier; seeds differ, so forests differ).
  logistic_regression  L2, C = 1, intercept; ours is Newton (IRLS) to a gradient of 1e-8,
                       scikit-learn's default lbfgs (tol 1e-4) and newton-cholesky, one
                       row each beside our one fit.
  mlp                  hidden 64,32 (--hidden), ReLU, Adam (lr 1e-3, betas 0.9/0.999,
                       eps 1e-7), batch 256, no weight decay, 10 % held out and scored
                       every epoch, exactly --epochs epochs (patience longer than the run).
                       Ours holds out a stratified 10 % and keeps the weights of the lowest
                       validation loss, MLPClassifier(early_stopping=True) a random 10 %
                       and those of the best validation accuracy.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))

MODELS = ["knn", "random_forest", "logistic_regression", "mlp"]
# Distinct query rows held at once, as `classical bench` (BenchTable.distinctQueryLimit).
DISTINCT_QUERY_LIMIT = 1_000_000
DEFAULT_QUERIES = {"knn": 1_000_000, "random_forest": 10_000_000,
                   "logistic_regression": 1_000_000, "mlp": 1_000_000}
# Sizes an option left unset takes, at full size and with --quick.
FULL = {"rows": 120_000, "queries": None, "trees": 100, "epochs": 20}
QUICK = {"rows": 4000, "queries": 20_000, "trees": 20, "epochs": 5}


def logistic_rows(rng, rows, columns):
    """The process of `classical bench`'s synthetic table (another generator, same law)."""
    weights = np.array([(4 if j % 2 == 0 else -4) / np.sqrt(j + 1) for j in range(columns)])
    x = rng.random((rows, columns), dtype=np.float32)
    logit = -1 + (x.astype(np.float64) - 0.5) @ weights
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    return x, y


def write_table(directory, rows, queries, columns, seed):
    rng = np.random.default_rng(seed)
    x, y = logistic_rows(rng, rows, columns)
    q, qy = logistic_rows(rng, queries, columns)
    for name, array in [("x", x), ("y", y), ("q", q), ("qy", qy)]:
        np.save(os.path.join(directory, name + ".npy"), array)


def ours(args, model, table, queries):
    command = [args.binary, "classical", "bench", "--model", model, "--table", table,
               "--queries", str(queries), "--threads", str(args.threads), "--seed", str(args.seed),
               "--neighbours", str(args.neighbours), "--trees", str(args.trees),
               "--hidden", args.hidden, "--epochs", str(args.epochs), "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")][-1]


def scikit_learn_models(args, model):
    """(label, unfitted estimator) pairs peering our `model`."""
    if model == "knn":
        return [("knn", KNeighborsClassifier(
            n_neighbors=args.neighbours, algorithm="brute", p=2, weights="uniform",
            n_jobs=args.threads))]
    if model == "random_forest":
        return [("random_forest", RandomForestClassifier(
            n_estimators=args.trees, max_features="sqrt", n_jobs=args.threads,
            random_state=args.seed))]
    if model == "logistic_regression":
        return [("logistic_regression (lbfgs)", LogisticRegression()),
                ("logistic_regression (newton-cholesky)",
                 LogisticRegression(solver="newton-cholesky"))]
    hidden = tuple(int(width) for width in args.hidden.split(","))
    return [("mlp", MLPClassifier(
        hidden_layer_sizes=hidden, activation="relu", solver="adam", alpha=0.0,
        batch_size=256, learning_rate_init=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
        max_iter=args.epochs, early_stopping=True, validation_fraction=0.1,
        n_iter_no_change=args.epochs + 1, shuffle=True, random_state=args.seed))]


def scikit_learn(estimator, x, y, q, qy, queries):
    """Fit and predict seconds and the distinct rows' AUC, with passes as ours makes them."""
    start = time.perf_counter()
    estimator.fit(x, y)
    fit_seconds = time.perf_counter() - start
    tail = q[:queries % len(q)]
    start = time.perf_counter()
    probabilities = estimator.predict_proba(q)[:, 1]
    for _ in range(1, queries // len(q)):
        estimator.predict_proba(q)
    if len(tail):
        estimator.predict_proba(tail)
    predict_seconds = time.perf_counter() - start
    return fit_seconds, predict_seconds, roc_auc_score(qy, probabilities)


def ratio(theirs, ours):
    return theirs / ours if ours > 0 else float("inf")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", choices=MODELS,
                        help="repeatable (default: all four)")
    parser.add_argument("--rows", type=int, help="training rows (default: 120000)")
    parser.add_argument("--queries", type=int,
                        help="predicted rows for every model (default: 1 M, the forest 10 M)")
    parser.add_argument("--columns", type=int, default=21)
    parser.add_argument("--neighbours", type=int, default=100)
    parser.add_argument("--trees", type=int, help="the forest's (default: 100)")
    parser.add_argument("--hidden", default="64,32")
    parser.add_argument("--epochs", type=int, help="the MLP's (default: 20)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help=f"small sizes that finish in a minute: {QUICK}")
    parser.add_argument("--data", help="write (and keep) the .npy table here instead of a temporary directory")
    parser.add_argument("--binary", default=os.path.join(root, ".build", "release", "landslide"))
    args = parser.parse_args()
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    models = args.model or MODELS
    queries = {model: args.queries or DEFAULT_QUERIES[model] for model in models}
    distinct = min(max(queries.values()), DISTINCT_QUERY_LIMIT)

    directory = args.data or tempfile.mkdtemp(prefix="classical_compare_")
    os.makedirs(directory, exist_ok=True)
    try:
        write_table(directory, args.rows, distinct, args.columns, args.seed)
        x, y = np.load(os.path.join(directory, "x.npy")), np.load(os.path.join(directory, "y.npy"))
        q_all, qy_all = np.load(os.path.join(directory, "q.npy")), np.load(os.path.join(directory, "qy.npy"))
        header = None
        print(f"{'model':38}{'queries':>9}{'ours fit s':>11}{'predict s':>11}{'sk fit s':>11}{'predict s':>11}"
              f"{'fit ratio':>11}{'pred ratio':>11}{'our AUC':>9}{'sk AUC':>9}{'ΔAUC':>9}")
        for model in models:
            count = queries[model]
            q, qy = q_all[:min(count, distinct)], qy_all[:min(count, distinct)]
            our = ours(args, model, directory, count)
            if header is None:
                header = (f"{args.rows} rows × {args.columns} columns, {args.threads} thread(s); "
                          f"ours: OpenBLAS {our['blas_core']}, {our['isa']}")
            with threadpool_limits(limits=args.threads), warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                for label, estimator in scikit_learn_models(args, model):
                    fit, predict, auc = scikit_learn(estimator, x, y, q, qy, count)
                    print(f"{label:38}{count:>9}{our['fit_seconds']:>11.3f}{our['predict_seconds']:>11.3f}"
                          f"{fit:>11.3f}{predict:>11.3f}{ratio(fit, our['fit_seconds']):>11.2f}"
                          f"{ratio(predict, our['predict_seconds']):>11.2f}{our['auc']:>9.4f}{auc:>9.4f}"
                          f"{our['auc'] - auc:>+9.4f}", flush=True)
        print(header)
    finally:
        if not args.data:
            shutil.rmtree(directory)


if __name__ == "__main__":
    sys.exit(main())
