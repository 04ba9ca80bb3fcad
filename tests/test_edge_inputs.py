# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Edge inputs that must fail clearly, with a message that says what to do, and
leave a fitted estimator as it was."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import TweedieRegressor
from sklearn.model_selection import KFold

from skgd import GDClassifier, GDClassifierCV, GDRegressor, GDRegressorCV


def _three_classes():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 4)
    y = (X @ [1.0, 2.0, 0.0, -1.0] > 0).astype(int)
    y[:3] = 2
    return X, y


@pytest.mark.parametrize("how", ["sample_weight", "class_weight"])
def test_log_loss_class_of_zero_weight_raises(how):
    # The log loss with an intercept has no minimum when a class carries no
    # weight (its intercept goes to -inf): the multinomial fit ran max_iter
    # L-BFGS iterations and warned to raise alpha, which cannot help.
    X, y = _three_classes()
    sample_weight = np.where(y == 2, 0.0, 1.0) if how == "sample_weight" else None
    class_weight = {2: 0.0} if how == "class_weight" else None
    clf = GDClassifier().fit(X, (y == 1).astype(int))
    clf.set_params(class_weight=class_weight)
    before = dict(vars(clf))
    with pytest.raises(ValueError, match=r"class\(es\) \[2\] .*zero total weight"):
        clf.fit(X, y, sample_weight=sample_weight)
    # The failed fit left the estimator as it was.
    assert set(vars(clf)) == set(before)
    assert all(vars(clf)[k] is before[k] for k in before)


def test_binary_log_loss_one_weighted_class_raises():
    X, y = _three_classes()
    y = (y == 1).astype(int)
    with pytest.raises(ValueError, match=r"class\(es\) \[1\] .*zero total weight"):
        GDClassifier().fit(X, y, sample_weight=np.where(y == 1, 0.0, 1.0))


@pytest.mark.parametrize(
    ("params", "solver"),
    [({"loss": "hinge"}, "auto"), ({"fit_intercept": False}, "auto"), ({}, "sgd")],
)
def test_zero_weight_class_still_fits_where_a_minimum_exists(params, solver):
    # The hinge loss's intercept stops at -1, and without an intercept the L2
    # penalty keeps the minimum finite; the stochastic solvers make passes as
    # SGDClassifier does.
    X, y = _three_classes()
    clf = GDClassifier(solver=solver, **params).fit(
        X, y, sample_weight=np.where(y == 2, 0.0, 1.0)
    )
    assert clf.coef_.shape == (3, 4)
    assert np.all(np.isfinite(clf.coef_))


def test_rejected_class_weight_leaves_the_estimator_as_it_was():
    X, y = _three_classes()
    clf = GDClassifier().fit(X, y)
    clf.set_params(class_weight={5: 1.0})
    before = dict(vars(clf))
    with pytest.raises(ValueError, match="class 5 of class_weight"):
        clf.fit(X, y)
    assert set(vars(clf)) == set(before)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([np.inf, 1.0, 1.0, 1.0], r"entry 0 is inf"),
        ([1.0, np.nan, 1.0, 1.0], r"entry 1 is nan"),
        ([1.0, 1.0, -2.0, 1.0], r"entry 2 is -2\.0"),
        ([[1.0, 1.0, 1.0, 1.0]], r"got shape \(1, 4\)"),
    ],
)
def test_penalty_weights_error_names_the_bad_entry(weights, match):
    # An infinite weight was reported as "with minimum 1.0", the smallest of
    # the finite ones, which says nothing of what is wrong.
    X, y = _three_classes()
    with pytest.raises(ValueError, match=match):
        GDRegressor(penalty_weights=np.array(weights)).fit(X, y.astype(float))


@pytest.mark.parametrize(
    ("loss", "power", "scale"),
    [("poisson", 1.0, 100.0), ("tweedie", 1.5, 1e4), ("poisson", 1.0, 1e6)],
)
def test_gd_glm_with_large_targets_converges(loss, power, scale):
    # Counts in the hundreds (claim amounts in the thousands): the first trial
    # step, far too long for the exponential's curvature, raised the curvature
    # constant to 1e30 and "gd" then stood still for max_iter iterations.
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    y = rng.poisson(np.exp(X @ [0.3, -0.2, 0.0, 0.1]) * scale).astype(float)
    alpha = 1e-2
    ref = TweedieRegressor(
        power=power, link="log", alpha=alpha, tol=1e-14, max_iter=10_000
    ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GDRegressor(
            loss=loss, power=power, alpha=alpha, solver="gd", tol=1e-10
        ).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=1e-5)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-8)
    assert est.n_iter_ < 500


def test_classifier_cv_class_of_zero_weight_raises_at_once():
    # Each fold's path ran to max_iter at every alpha (13 s on 60 x 4) and the
    # warnings advised raising alpha.
    X, y = _three_classes()
    with pytest.raises(ValueError, match=r"class\(es\) \[2\] .*zero total weight"):
        GDClassifierCV(class_weight={2: 0.0}).fit(X, y)


@pytest.mark.parametrize("part", ["training", "validation"])
@pytest.mark.parametrize("Estimator", [GDRegressorCV, GDClassifierCV])
def test_cv_fold_of_zero_weight_names_the_fold(Estimator, part):
    # Unshuffled folds over rows of zero weight: a validation fold raised
    # numpy's "Weights sum to zero, can't be normalized" (ZeroDivisionError),
    # and a training fold "The squares of some feature values overflow".
    rng = np.random.RandomState(0)
    X = rng.randn(50, 5)
    y = X @ [1.0, 2.0, 0.0, -1.0, 0.0] + 0.3 * rng.randn(50)
    if Estimator is GDClassifierCV:
        y = (y > 0).astype(int)
    weight = np.ones(50)
    if part == "validation":
        weight[:10] = 0.0
    else:
        weight[10:] = 0.0
    with pytest.raises(ValueError, match=rf"fold 0's {part} rows .*zero total"):
        Estimator(cv=KFold(5)).fit(X, y, sample_weight=weight)


@pytest.mark.parametrize(
    ("loss", "dtype", "scale"),
    [
        ("poisson", np.float64, 1e155),
        ("poisson", np.float32, 1e14),
        ("tweedie", np.float64, 1e250),
        ("tweedie", np.float32, 1e30),
        ("gamma", np.float64, 1e-150),
        ("gamma", np.float32, 1e-14),
    ],
)
def test_log_link_targets_beyond_the_exponential_cap_raise(loss, dtype, scale):
    # The loss's exponentials are capped at exp(log(max float) / 3) (1e102 in
    # float64, 7.0e12 in float32), which leaves it unbounded below for targets
    # whose log-mean needs more: Poisson counts near 1e155 gave coefficients
    # near 1e55 and no ConvergenceWarning.
    rng = np.random.RandomState(0)
    X = rng.randn(30, 4).astype(dtype)
    mu = np.exp(X.astype(float) @ [0.3, -0.2, 0.0, 0.1])
    with pytest.raises(ValueError, match=r"divide y by a constant"):
        GDRegressor(loss=loss).fit(X, (mu * scale).astype(dtype))
    # Within the cap the fit goes on.
    GDRegressor(loss=loss, max_iter=5).fit(X, mu.astype(dtype))
