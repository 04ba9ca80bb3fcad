# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The configurations whose fitted results are pinned in ``golden.json``.

Each configuration is fitted on small, fixed data; ``fit_config`` returns the
fitted ``coef_``, ``intercept_``, ``n_iter_`` and ``loss_curve_`` as plain lists.
The golden file guards refactors of the engine: a change that is not meant to move
any result must reproduce these to 1e-12 with the same iteration counts. A change
that is meant to move them regenerates the file (``python tests/golden/configs.py``)
in its own commit, with a changelog line that says why.
"""

import itertools
import json
import pathlib
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skgd import GDClassifier, GDRegressor, gd_path

GOLDEN = pathlib.Path(__file__).with_name("golden.json")


def _regression_data():
    rng = np.random.default_rng(0)
    n, p = 120, 8
    cov = 0.6 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.multivariate_normal(np.zeros(p), cov, size=n)
    X = X * np.logspace(-1, 1, p) + rng.normal(scale=2.0, size=p)
    w = np.array([1.5, -2.0, 0.0, 0.0, 0.7, 0.0, 0.0, 0.3])
    y = X @ w + 1.0 + 0.3 * rng.normal(size=n)
    X[rng.random(X.shape) < 0.3] = 0.0  # zeros, so that the sparse copy is sparse
    s = rng.uniform(0.5, 2.0, size=n)
    return X, y, s


def _classification_data(n_classes):
    X, y = make_classification(
        n_samples=150,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=1,
    )
    X = X * np.linspace(0.5, 3.0, 6)
    s = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    return X, y, s


def _configs():
    configs = []
    # Full batch: every regression loss and penalty, dense and sparse, intercept,
    # weights.
    losses = [
        "squared_error",
        "huber",
        "epsilon_insensitive",
        "squared_epsilon_insensitive",
    ]
    penalties = ["l2", "l1", "elasticnet", None]
    for i, (loss, penalty) in enumerate(itertools.product(losses, penalties)):
        configs.append(
            {
                "kind": "regressor",
                "params": {"loss": loss, "penalty": penalty, "alpha": 0.05},
                "input": "sparse" if i % 3 == 1 else "dense",
                "weights": i % 2 == 0,
                "fit_intercept": i % 4 != 3,
            }
        )
    # Full batch at a tight tol (squared loss: the Gram, the working sets).
    for penalty, inp in itertools.product(
        ["l1", "elasticnet", None], ["dense", "sparse"]
    ):
        configs.append(
            {
                "kind": "regressor",
                "params": {"penalty": penalty, "alpha": 0.02, "tol": 1e-10},
                "input": inp,
                "weights": inp == "sparse",
                "fit_intercept": True,
            }
        )
    # Stochastic solvers.
    for solver, penalty, inp in itertools.product(
        ["sgd", "adam"], ["l2", "elasticnet"], ["dense", "sparse"]
    ):
        configs.append(
            {
                "kind": "regressor",
                "params": {
                    "solver": solver,
                    "penalty": penalty,
                    "alpha": 0.01,
                    "max_iter": 15,
                    "random_state": 0,
                    "tol": None,
                },
                "input": inp,
                "weights": penalty == "l2",
                "fit_intercept": True,
            }
        )
    configs += [
        {
            "kind": "regressor",
            "params": {
                "solver": "sgd",
                "batch_size": 1,
                "momentum": 0.0,
                "learning_rate": lr,
                "eta0": 0.001,
                "max_iter": 8,
                "random_state": 0,
                "tol": None,
            },
            "input": "dense",
            "weights": False,
            "fit_intercept": True,
        }
        for lr in ["invscaling", "adaptive", "constant"]
    ]
    configs.append(
        {
            "kind": "regressor",
            "params": {
                "solver": "sgd",
                "early_stopping": True,
                "max_iter": 30,
                "random_state": 0,
            },
            "input": "dense",
            "weights": False,
            "fit_intercept": True,
        }
    )
    # Dask: the Gram reduction, a one-pass loss, the streamed stochastic solvers
    # (the adaptive schedule included).
    configs += [
        {
            "kind": "regressor",
            "params": params,
            "input": "dask",
            "weights": weights,
            "fit_intercept": True,
        }
        for params, weights in [
            ({"penalty": "l1", "alpha": 0.05}, True),
            ({"loss": "huber", "penalty": "elasticnet", "alpha": 0.05}, False),
            ({"solver": "sgd", "max_iter": 10, "random_state": 0, "tol": None}, False),
            (
                {
                    "solver": "sgd",
                    "learning_rate": "adaptive",
                    "max_iter": 20,
                    "random_state": 0,
                },
                False,
            ),
            ({"solver": "adam", "max_iter": 10, "random_state": 0, "tol": None}, True),
        ]
    ]
    # Classifier: every loss, binary and 3 classes, full batch and stochastic.
    for loss, n_classes, penalty in itertools.product(
        ["log_loss", "hinge", "modified_huber"], [2, 3], ["l2", "l1"]
    ):
        configs.append(
            {
                "kind": "classifier",
                "n_classes": n_classes,
                "params": {
                    "loss": loss,
                    "penalty": penalty,
                    "alpha": 0.01,
                    "max_iter": 300,
                },
                "input": "sparse" if penalty == "l1" and n_classes == 2 else "dense",
                "weights": n_classes == 3,
                "fit_intercept": loss != "hinge" or n_classes == 2,
            }
        )
    for solver, n_classes in itertools.product(["sgd", "adam"], [2, 3]):
        configs.append(
            {
                "kind": "classifier",
                "n_classes": n_classes,
                "params": {
                    "solver": solver,
                    "max_iter": 10,
                    "random_state": 0,
                    "tol": None,
                },
                "input": "dense",
                "weights": False,
                "fit_intercept": True,
            }
        )
    configs += [
        {
            "kind": "classifier",
            "n_classes": n_classes,
            "params": {"alpha": 0.01, "max_iter": 200},
            "input": "dask",
            "weights": False,
            "fit_intercept": True,
        }
        for n_classes in [2, 3]
    ]
    configs.append(
        {"kind": "path", "input": "dense", "weights": True, "fit_intercept": True}
    )
    configs.append(
        {"kind": "path", "input": "sparse", "weights": False, "fit_intercept": True}
    )
    return configs


CONFIGS = _configs()


def config_id(config):
    """Return a short, readable name for a configuration."""
    parts = [config["kind"], config["input"]]
    if "n_classes" in config:
        parts.append(f"{config['n_classes']}cls")
    parts += [f"{k}={v}" for k, v in sorted(config.get("params", {}).items())]
    parts.append("w" if config["weights"] else "nw")
    parts.append("b" if config["fit_intercept"] else "nb")
    return ",".join(parts)


def _as_input(X, y, kind):
    if kind == "sparse":
        return sp.csr_matrix(X), y
    if kind == "dask":
        import dask.array as da

        return da.from_array(X, chunks=(40, X.shape[1])), da.from_array(y, chunks=40)
    return X, y


def _plain(value):
    return np.asarray(value, dtype=float).ravel().tolist()


def fit_config(config):
    """Fit one configuration and return its results as plain lists."""
    if config["kind"] == "classifier":
        X, y, s = _classification_data(config["n_classes"])
    else:
        X, y, s = _regression_data()
    weight = s if config["weights"] else None
    Xi, yi = _as_input(X, y, config["input"])
    if config["kind"] == "path":
        alphas, coefs, _ = gd_path(
            Xi,
            yi,
            l1_ratio=0.7,
            alphas=8,
            sample_weight=weight,
            fit_intercept=config["fit_intercept"],
        )
        return {"alphas": _plain(alphas), "coef": _plain(coefs)}
    cls = GDClassifier if config["kind"] == "classifier" else GDRegressor
    # The full-batch configurations pin the first-order solver "gd" (what "auto"
    # chooses is free to change; what "gd" computes is not).
    params = {"solver": "gd", **config["params"]}
    est = cls(fit_intercept=config["fit_intercept"], **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(Xi, yi, sample_weight=weight)
    return {
        "coef": _plain(est.coef_),
        "intercept": _plain(est.intercept_),
        "n_iter": int(np.max(est.n_iter_)),
        "loss_curve": _plain(est.loss_curve_) if hasattr(est, "loss_curve_") else [],
    }


def _with_client(fn):
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        return fn()


def main():
    """Regenerate ``golden.json`` from the current code."""
    results = _with_client(lambda: {config_id(c): fit_config(c) for c in CONFIGS})
    GOLDEN.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(results)} configurations to {GOLDEN}")


if __name__ == "__main__":
    main()
