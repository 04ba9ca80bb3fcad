# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Silent wrong answers turned into right answers or clear errors."""

import numpy as np
import pytest

from skgd import GDClassifier, GDRegressor, GDRegressorCV


def _year_data(n=1000, seed=0):
    # A column whose mean (2000) dwarfs its spread (0.1), and a standard one.
    rng = np.random.default_rng(seed)
    year = 2000 + 0.1 * rng.standard_normal(n)
    x2 = rng.standard_normal(n)
    return np.c_[year, x2], year, x2


@pytest.mark.parametrize(
    "class_weight", [{0: -1.0}, {1: -0.5}, {0: np.nan}, {1: np.inf}, {0: 0, 1: 0}]
)
def test_bad_class_weight_is_refused(class_weight):
    # A negative class weight gave a garbage model, NaN or all-zero weights a
    # message about overflowing feature values.
    X, year, x2 = _year_data(n=100)
    y = (x2 > 0).astype(int)
    with pytest.raises(ValueError, match="class_weight"):
        GDClassifier(class_weight=class_weight).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"alphas": [-1.0, 0.5]},
        {"alphas": [np.nan, 0.5]},
        {"l1_ratio": np.nan},
        {"l1_ratio": [0.5, np.nan]},
    ],
)
def test_cv_bad_alphas_or_l1_ratio_is_refused(params):
    # ElasticNetCV refuses a negative alpha; here it was fitted, and NaN alphas
    # or l1_ratio were reported as a diverged fit.
    X, _, x2 = _year_data(n=60)
    with pytest.raises(ValueError, match="alphas|l1_ratio"):
        GDRegressorCV(cv=3, **params).fit(X, x2)


@pytest.mark.parametrize("solver", ["gd", "sgd"])
@pytest.mark.parametrize(
    ("n_targets", "shape", "expected"),
    [
        (1, (3,), r"expected \(2,\) or \(1, 2\)\."),
        (1, (2, 2), r"expected \(2,\) or \(1, 2\)\."),
        (2, (2,), r"expected \(2, 2\)\."),
        (2, (3, 2), r"expected \(2, 2\)\."),
    ],
)
def test_wrong_coef_init_names_the_expected_shape(solver, n_targets, shape, expected):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = X[:, 0] if n_targets == 1 else X
    with pytest.raises(ValueError, match=f"coef_init has shape .*; {expected}"):
        GDRegressor(solver=solver).fit(X, y, coef_init=np.zeros(shape))


@pytest.mark.parametrize("first_2d", [False, True])
def test_partial_fit_names_a_change_of_y_dimensions(first_2d):
    # A 1-D y then an (n, 1) y (or the reverse) said "y has 1 target(s) but the
    # model was fitted on 1".
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = X[:, 0]
    ys = (y[:, None], y) if first_2d else (y, y[:, None])
    est = GDRegressor(solver="sgd").partial_fit(X, ys[0])
    with pytest.raises(ValueError, match="1-D y.*2-D y|2-D y.*1-D y"):
        est.partial_fit(X, ys[1])
