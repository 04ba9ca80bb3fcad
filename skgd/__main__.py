# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Command line: ``python -m skgd demo`` runs the main job on bundled data.

The demo tunes a scaled GDRegressor by GridSearchCV on ``load_diabetes`` and prints
its cross-validated score beside those of the sklearn estimators it replaces.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, Ridge, SGDRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor, __version__


def demo(n_splits=5, out=sys.stdout):
    """Run the demo and print a table of cross-validated R^2 scores.

    Parameters
    ----------
    n_splits : int, default=5
        Number of cross-validation folds.
    out : file-like, default=sys.stdout
        Where to print.

    Returns
    -------
    results : dict
        Mean cross-validated R^2 per model name, and the tuned skgd pipeline under
        ``"best_estimator"``.
    """
    X, y = load_diabetes(return_X_y=True)
    cv = KFold(n_splits, shuffle=True, random_state=0)
    alphas = np.logspace(-3, 1, 9)
    print(
        f"skgd {__version__}: load_diabetes, {X.shape[0]} samples x "
        f"{X.shape[1]} features, {n_splits}-fold CV R^2",
        file=out,
    )

    # Every model is tuned over the same alphas on the same folds (skgd over its three
    # penalties too); the table shows the best mean cross-validated R^2 each reaches,
    # the time its search took and its number of candidates.
    searches = {
        "skgd GDRegressor": (
            make_pipeline(StandardScaler(), GDRegressor()),
            {
                "gdregressor__alpha": alphas,
                "gdregressor__penalty": ["l2", "l1", "elasticnet"],
            },
        ),
        "sklearn Ridge": (
            make_pipeline(StandardScaler(), Ridge()),
            {"ridge__alpha": alphas * len(y)},
        ),
        "sklearn Lasso": (
            make_pipeline(StandardScaler(), Lasso()),
            {"lasso__alpha": alphas},
        ),
        "sklearn SGDRegressor": (
            make_pipeline(StandardScaler(), SGDRegressor(random_state=0)),
            {"sgdregressor__alpha": alphas},
        ),
    }
    results = {}
    print(
        f"{'model (tuned)':<22} {'best R^2':>9} {'std':>7} {'search':>8} "
        f"{'candidates':>10}  best parameters",
        file=out,
    )
    for name, (model, grid) in searches.items():
        search = GridSearchCV(model, grid, cv=cv)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(X, y)
        elapsed = time.perf_counter() - start
        std = search.cv_results_["std_test_score"][search.best_index_]
        params = ", ".join(
            f"{k.split('__')[1]}={v:.3g}"
            if isinstance(v, float)
            else f"{k.split('__')[1]}={v!r}"
            for k, v in search.best_params_.items()
        )
        results[name] = float(search.best_score_)
        print(
            f"{name:<22} {search.best_score_:9.4f} {std:7.4f} {elapsed:7.2f}s "
            f"{len(search.cv_results_['params']):10d}  {params}",
            file=out,
        )
        if name == "skgd GDRegressor":
            best = search
    reg = best.best_estimator_[-1]
    n_zero = int(np.sum(reg.coef_ == 0))
    print(
        f"\nskgd refit on all data: {n_zero} of {reg.coef_.size} coefficients "
        f"exactly zero, {reg.n_iter_} iterations to a relative duality gap below "
        f"tol={reg.tol:g}",
        file=out,
    )
    results["best_estimator"] = best.best_estimator_
    return results


def main(argv=None):
    """Entry point of ``python -m skgd``."""
    # The module docstring is reStructuredText for the docs; a terminal shows it
    # without the inline-literal markup.
    description = __doc__.replace("``", "")
    parser = argparse.ArgumentParser(prog="python -m skgd", description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("demo", help="tune GDRegressor on load_diabetes")
    run.add_argument("--folds", type=int, default=5, help="number of CV folds")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.folds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
