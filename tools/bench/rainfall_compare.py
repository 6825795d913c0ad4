#!/usr/bin/env python3
"""Our rainfall-threshold models beside Python's, one after the other on this machine:

    swift build -c release --product landslide
    /work/venv-sk/bin/pip install xgboost==1.7.4 scikit-learn imbalanced-learn
    /work/venv-sk/bin/python tools/bench/rainfall_compare.py --threads 2 [--events DIR]

1. One XGBoost fit of the seed's best configuration (200 trees, depth 40, learning rate
   0.01, subsample and colsample_bytree 0.8, hist) on the SMOTE-balanced 80 % of the
   events, as `landslide rainfall bench` writes it (x.npy, y.npy): ours through the C API
   against Python's XGBClassifier on the same rows, the same library version (1.7.4),
   parameters and threads; the best of --fits each (taking turns), and our overhead.
2. The protocol's grid search, 16 XGBoost points (n_estimators 50/100/200/300 x max_depth
   5/10/20/40, learning rate 0.1, subsample and colsample_bytree 0.8) on leave-one-region-
   out folds of the same 80 % with SMOTE (k = 5) on each training fold: `landslide rainfall
   train` (one repetition; one process on THREADS threads, and THREADS single-threaded MPI
   ranks) against GridSearchCV(Pipeline(MinMaxScaler, SMOTE, XGBClassifier(n_jobs=1)),
   cv=LeaveOneGroupOut(), scoring="roc_auc", n_jobs=THREADS); fits per second, and the
   projected wall time of the seed's 28,800 XGBoost fits on 64 single-core ranks at our
   per-rank rate.
3. Our XGBoost's test AUC beside the synthetic country's true probability (the oracle) on
   the same test rows.

Without --events, the default synthetic country is made (`rainfall synth`, `rainfall
events`) in a temporary directory.
"""
import argparse
import csv
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import xgboost
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.preprocessing import MinMaxScaler

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))

GRID = {"n_estimators": [50, 100, 200, 300], "max_depth": [5, 10, 20, 40]}


def landslide(binary, *arguments):
    result = subprocess.run([binary, *arguments], capture_output=True, text=True, check=True)
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(root, ".build", "release", "landslide"))
    parser.add_argument("--events", help="a `rainfall events` directory (default: made here)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fits", type=int, default=3)
    parser.add_argument("--fit-only", action="store_true", help="part 1 alone")
    options = parser.parse_args()
    work = tempfile.mkdtemp(prefix="rainfall-bench-")
    events = options.events
    if events is None:
        country, events = os.path.join(work, "country"), os.path.join(work, "events")
        landslide(options.binary, "rainfall", "synth", "--out", country)
        landslide(options.binary, "rainfall", "events", "--config",
                  os.path.join(root, "configs", "rainfall.yaml"), "--data", country,
                  "--out", events)
    tables = os.path.join(work, "tables")

    # 1. One fit, ours and Python's taking turns (this machine's speed drifts).
    ours = {"fit_seconds": []}
    theirs = []
    for _ in range(options.fits):
        run = json.loads(landslide(options.binary, "rainfall", "bench", "--events", events,
                                   "--out", tables, "--fits", "1",
                                   "--threads", str(options.threads)))
        ours["fit_seconds"] += run["fit_seconds"]
        ours["xgboost"] = run["xgboost"]
        x, y = np.load(os.path.join(tables, "x.npy")), np.load(os.path.join(tables, "y.npy"))
        model = xgboost.XGBClassifier(
            n_estimators=200, max_depth=40, learning_rate=0.01, subsample=0.8,
            colsample_bytree=0.8, tree_method="hist", random_state=1, n_jobs=options.threads)
        started = time.perf_counter()
        model.fit(x, y)
        theirs.append(time.perf_counter() - started)
    a, b = min(ours["fit_seconds"]), min(theirs)
    print(f"1. one XGBoost fit, {x.shape[0]} x {x.shape[1]} SMOTE-balanced rows, "
          f"{options.threads} threads, xgboost {ours['xgboost']} / {xgboost.__version__}")
    print(f"   ours {a:.3f} s (of {', '.join(f'{s:.3f}' for s in ours['fit_seconds'])}); "
          f"Python {b:.3f} s (of {', '.join(f'{s:.3f}' for s in theirs)}); "
          f"our overhead {100 * (a / b - 1):+.1f} %")

    if options.fit_only:
        return

    # 2. The grid search.
    config = os.path.join(work, "grid.yaml")
    with open(config, "w") as file:
        file.write("training:\n  repetitions: 1\n  models:\n    xgboost:\n"
                   "      n_estimators: [50, 100, 200, 300]\n      max_depth: [5, 10, 20, 40]\n"
                   "      learning_rate: [0.1]\n      subsample: [0.8]\n"
                   "      colsample_bytree: [0.8]\n")
    # Ours as one process on THREADS threads, and as THREADS single-threaded MPI ranks; the
    # rate is that of the fits alone (the command's "N fits in S s" line), without reading
    # the events and refitting the best point.
    def ours_grid(name, ranks):
        launcher = (["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                     "-np", str(ranks)] if ranks > 1 else [])
        threads = 1 if ranks > 1 else options.threads
        command = launcher + [options.binary, "rainfall", "train", "--config", config,
                              "--events", events, "--run-dir", os.path.join(work, name),
                              "--json", "--threads", str(threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        line = next(l for l in done.stderr.splitlines() if " fits in " in l)
        fits, seconds = int(line.split()[0]), float(line.split()[3])
        result = [json.loads(l) for l in done.stdout.splitlines() if l.strip()][0]
        return fits, seconds, result

    our_fits, our_seconds, result = ours_grid("run", 1)
    _, rank_seconds, _ = ours_grid("ranks", options.threads)
    x_all = np.load(os.path.join(tables, "events_x.npy"))
    y_all = np.load(os.path.join(tables, "events_y.npy"))
    regions = np.load(os.path.join(tables, "events_regions.npy")).astype(int)
    train = np.load(os.path.join(tables, "train_rows.npy")).astype(int)
    pipeline = Pipeline([("scale", MinMaxScaler()), ("smote", SMOTE(k_neighbors=5, random_state=1)),
                         ("xgb", xgboost.XGBClassifier(learning_rate=0.1, subsample=0.8,
                                                       colsample_bytree=0.8, tree_method="hist",
                                                       random_state=1, n_jobs=1))])
    # xgboost 1.7's classifier predates scikit-learn 1.9's scorer tags: score it directly.
    def auc(estimator, x, y):
        return roc_auc_score(y, estimator.predict_proba(x)[:, 1])

    search = GridSearchCV(pipeline, {f"xgb__{k}": v for k, v in GRID.items()},
                          cv=LeaveOneGroupOut(), scoring=auc, n_jobs=options.threads,
                          refit=False)
    started = time.perf_counter()
    search.fit(x_all[train], y_all[train], groups=regions[train])
    their_wall = time.perf_counter() - started
    their_fits = len(search.cv_results_["params"]) * search.n_splits_
    our_rate, their_rate = our_fits / our_seconds, their_fits / their_wall
    rank_rate = our_fits / rank_seconds
    projected = 28_800 / (64 * rank_rate / options.threads) / 3600
    print(f"2. grid search, 16 points x {their_fits // 16} folds, SMOTE on each training fold")
    print(f"   ours, 1 process x {options.threads} threads: {our_fits} fits in {our_seconds:.1f} s "
          f"({our_rate:.2f} fits/s); {options.threads} MPI ranks x 1 thread: "
          f"{rank_seconds:.1f} s ({rank_rate:.2f} fits/s); GridSearchCV n_jobs={options.threads} "
          f"{their_fits} fits in {their_wall:.1f} s ({their_rate:.2f} fits/s); ratios "
          f"{our_rate / their_rate:.2f} and {rank_rate / their_rate:.2f}")
    print(f"   best validation AUC: ours {result['auc']:.4f}, GridSearchCV "
          f"{max(search.cv_results_['mean_test_score']):.4f}")
    print(f"   projected 28,800 XGBoost fits on 64 single-core ranks at our per-rank rate: "
          f"{projected:.2f} h")

    # 3. Against the oracle.
    with open(os.path.join(events, "events.csv"), newline="") as file:
        truth = np.array([float(row["truth"] or "nan") for row in csv.DictReader(file)])
    test = np.setdiff1d(np.arange(len(y_all)), train)
    if not np.isnan(truth[test]).any():
        oracle = roc_auc_score(y_all[test], truth[test])
        print(f"3. test AUC: our XGBoost {result['test']['auc']:.4f}, the true probability "
              f"{oracle:.4f} (difference {result['test']['auc'] - oracle:+.4f})")


if __name__ == "__main__":
    main()
