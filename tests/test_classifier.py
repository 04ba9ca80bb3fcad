# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDClassifier against exact references: Newton solves, LogisticRegression, SVMs.

The log losses have no duality gap here: ``tol`` bounds the proximal-gradient
measure, which bounds the suboptimality only through the conditioning, so tight
comparisons use ``tol=1e-14`` (as the regressor's unpenalized ones do).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import (
    load_breast_cancer,
    load_iris,
    make_blobs,
    make_classification,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skgd import GDClassifier
from skgd.losses import (
    Hinge,
    LogLoss,
    ModifiedHuber,
    MultinomialLogLoss,
    Perceptron,
    SquaredHinge,
)
from skgd.testing import check_loss


def _standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _onehot(codes, k):
    return (codes[:, None] == np.arange(k)).astype(float)


def newton_logistic(X, y, alpha, sample_weight=None, n_iter=50):
    """Exact L2 (multinomial) logistic regression by Newton's method.

    Minimises ``1/S sum_i s_i CE(y_i, x_i W + b) + alpha/2 ||W||^2`` with classes
    coded 0..K-1; returns ``(W (K, p), b (K,))`` with ``sum(b) = 0`` for K > 2 and
    the binary layout ``(1, p), (1,)`` for K = 2.
    """
    classes = np.unique(y)
    codes = np.searchsorted(classes, y)
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    u = s / s.sum()
    K = len(classes)
    k = 1 if K == 2 else K
    Z = np.hstack([X, np.ones((n, 1))])
    theta = np.zeros((p + 1) * k)
    reg = np.r_[np.full(p, alpha), 0.0]
    for _ in range(n_iter):
        T = theta.reshape(k, p + 1)
        raw = Z @ T.T
        if k == 1:
            prob = 1 / (1 + np.exp(-raw[:, 0]))
            r = (prob - (codes == 1)) * u
            grad = Z.T @ r + reg * T[0]
            H = Z.T @ (Z * (u * prob * (1 - prob))[:, None]) + np.diag(reg)
        else:
            e = np.exp(raw - raw.max(1, keepdims=True))
            prob = e / e.sum(1, keepdims=True)
            R = (prob - _onehot(codes, K)) * u[:, None]
            grad = (Z.T @ R).T + reg * T
            grad = grad.ravel()
            H = np.zeros(((p + 1) * K, (p + 1) * K))
            for a in range(K):
                for b in range(K):
                    w = u * prob[:, a] * ((a == b) - prob[:, b])
                    H[
                        a * (p + 1) : (a + 1) * (p + 1), b * (p + 1) : (b + 1) * (p + 1)
                    ] = Z.T @ (Z * w[:, None])
            H += np.diag(np.tile(reg, K))
            # The intercepts are defined up to a common shift: pin their sum.
            ones = np.zeros((p + 1) * K)
            ones[p :: p + 1] = 1.0
            H += np.outer(ones, ones)
        step = np.linalg.solve(H, grad.ravel())
        theta = theta - step
        if np.abs(step).max() < 1e-15:
            break
    T = theta.reshape(k, p + 1)
    return T[:, :p], T[:, p]


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
@pytest.mark.parametrize("alpha", [1e-3, 1e-1])
def test_log_loss_equals_newton(loader, alpha):
    X, y = _standardized(loader)
    clf = GDClassifier(alpha=alpha, tol=1e-14, max_iter=20_000).fit(X, y)
    W, b = newton_logistic(X, y, alpha)
    np.testing.assert_allclose(clf.coef_, W, rtol=1e-6, atol=1e-6 * np.abs(W).max())
    np.testing.assert_allclose(clf.intercept_, b, rtol=1e-6, atol=1e-6)


def test_log_loss_equals_logistic_regression():
    X, y = _standardized(load_iris)
    alpha = 1e-2
    clf = GDClassifier(alpha=alpha, tol=1e-14, max_iter=20_000).fit(X, y)
    ref = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-12, max_iter=10_000)
    ref.fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))


def test_sample_weight_and_class_weight_equal_repeated_rows():
    X, y = _standardized(load_iris)
    rng = np.random.default_rng(0)
    sw = rng.integers(0, 3, size=len(y)).astype(float)
    weighted = GDClassifier(alpha=1e-2, tol=1e-14, max_iter=20_000)
    weighted.fit(X, y, sample_weight=sw)
    rows = np.repeat(np.arange(len(y)), sw.astype(int))
    repeated = GDClassifier(alpha=1e-2, tol=1e-14, max_iter=20_000)
    repeated.fit(X[rows], y[rows])
    # Both are within the tolerance's reach of one optimum (coefficient errors of
    # order sqrt(gap / alpha)), not on the same iterates.
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-6)
    W, b = newton_logistic(X, y, 1e-2, sample_weight=sw)
    np.testing.assert_allclose(weighted.coef_, W, rtol=1e-6, atol=1e-6)

    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    by_class = GDClassifier(alpha=1e-2, tol=1e-14, class_weight=cw).fit(X, y)
    by_sample = GDClassifier(alpha=1e-2, tol=1e-14).fit(
        X, y, sample_weight=np.vectorize(cw.get)(y)
    )
    np.testing.assert_allclose(by_class.coef_, by_sample.coef_, rtol=1e-6, atol=1e-6)
    counts = np.bincount(y)
    balanced = GDClassifier(alpha=1e-2, tol=1e-14, class_weight="balanced")
    balanced.fit(X[:120], y[:120])
    expected = GDClassifier(alpha=1e-2, tol=1e-14).fit(
        X[:120],
        y[:120],
        sample_weight=(120 / (3 * np.bincount(y[:120])))[y[:120]],
    )
    np.testing.assert_allclose(balanced.coef_, expected.coef_, rtol=1e-6, atol=1e-6)
    assert counts.sum() == len(y)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_l1_and_elasticnet_match_saga(l1_ratio):
    X, y = make_classification(200, 10, n_informative=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    alpha = 0.02
    penalty = "l1" if l1_ratio == 1.0 else "elasticnet"
    clf = GDClassifier(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=1e-14)
    clf.fit(X, y)
    ref = LogisticRegression(
        C=1 / (alpha * len(y)),
        l1_ratio=l1_ratio,
        solver="saga",
        tol=1e-13,
        max_iter=200_000,
    ).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_array_equal(clf.coef_ == 0, ref.coef_ == 0)
    assert (clf.coef_ == 0).sum() > 0  # the penalty selects


def test_multinomial_l1_with_many_features_matches_saga():
    # 70 features: enough for the L1 working sets of a single output, which do not
    # apply to K outputs (their sets are of features, not of rows of W).
    X, y = make_classification(200, 70, n_informative=6, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    alpha = 0.02
    clf = GDClassifier(penalty="l1", alpha=alpha, tol=1e-14, max_iter=100_000)
    clf.fit(X, y)
    ref = LogisticRegression(
        C=1 / (alpha * len(y)), l1_ratio=1.0, solver="saga", tol=1e-13, max_iter=200_000
    ).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_array_equal(clf.coef_ == 0, ref.coef_ == 0)
    assert (clf.coef_ == 0).sum() > 100


def test_hinge_objective_is_optimal_and_certified():
    X, y = _standardized(load_breast_cancer)
    X, y = X[:150], y[:150]  # the reference QP below is dense in n
    alpha = 1e-2
    # Smoothing converges like O(1/tol) on the non-smooth hinge: a moderate tol.
    clf = GDClassifier(loss="hinge", alpha=alpha, tol=1e-4, max_iter=50_000).fit(X, y)
    yy = np.where(y == 1, 1.0, -1.0)

    def objective(w, b):
        return np.mean(np.maximum(0, 1 - yy * (X @ w + b))) + alpha / 2 * w @ w

    value = objective(clf.coef_[0], clf.intercept_[0])
    # The hinge problem's dual (a box QP) solved independently bounds P* from below.
    from scipy.optimize import minimize

    n = len(y)
    K = (X * yy[:, None]) @ (X * yy[:, None]).T

    def neg_dual(a):
        # max sum(a)/n - 1/(2 alpha n^2) a K a, 0 <= a <= 1, sum(a y) = 0
        return -(a.sum() / n - a @ K @ a / (2 * alpha * n * n))

    res = minimize(
        neg_dual,
        np.full(n, 0.5),
        jac=lambda a: -(np.ones(n) / n - K @ a / (alpha * n * n)),
        bounds=[(0, 1)] * n,
        constraints=[{"type": "eq", "fun": lambda a: a @ yy, "jac": lambda a: yy}],
        method="SLSQP",
        options={"maxiter": 500, "ftol": 1e-14},
    )
    lower = -res.fun
    assert value >= lower - 1e-9
    # tol bounds the gap relative to the objective of the best constant model.
    ref = np.mean(np.maximum(0, 1 - yy * np.sign(yy.mean())))
    assert value - lower <= 1e-4 * ref


def test_modified_huber_proba_and_ovr_shapes():
    X, y = _standardized(load_iris)
    clf = GDClassifier(loss="modified_huber", alpha=1e-3).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.coef_.shape == (3, 4)
    assert clf.intercept_.shape == (3,)
    assert clf.score(X, y) > 0.9
    with pytest.raises(AttributeError):
        GDClassifier(loss="hinge").fit(X, y).predict_proba(X)


def test_string_labels_binary_layout_and_log_proba():
    X, y = _standardized(load_breast_cancer)
    labels = np.array(["malignant", "benign"])[y]
    clf = GDClassifier(alpha=1e-2).fit(X, labels)
    assert list(clf.classes_) == ["benign", "malignant"]
    assert clf.coef_.shape == (1, X.shape[1])
    assert clf.intercept_.shape == (1,)
    assert set(clf.predict(X)) <= set(labels)
    np.testing.assert_allclose(
        np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-12
    )
    decision = clf.decision_function(X)
    assert decision.shape == (len(y),)
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[(decision > 0).astype(int)]
    )


@pytest.mark.parametrize("loss", ["log_loss", "hinge", "modified_huber"])
def test_sparse_equals_dense_and_float32(loss):
    X, y = _standardized(load_iris)
    X[np.abs(X) < 0.5] = 0.0
    dense = GDClassifier(loss=loss, alpha=1e-2, tol=1e-10).fit(X, y)
    sparse = GDClassifier(loss=loss, alpha=1e-2, tol=1e-10).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    single = GDClassifier(loss=loss, alpha=1e-2).fit(X.astype(np.float32), y)
    assert single.coef_.dtype == np.float32
    assert single.decision_function(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
def test_stochastic_solvers_reach_the_optimum_accuracy(solver, loader):
    X, y = _standardized(loader)
    exact = GDClassifier(alpha=1e-3).fit(X, y)
    stochastic = GDClassifier(solver=solver, alpha=1e-3, random_state=0).fit(X, y)
    assert stochastic.score(X, y) >= exact.score(X, y) - 0.02


def test_partial_fit_needs_classes_and_continues():
    X, y = _standardized(load_iris)
    clf = GDClassifier(alpha=1e-3, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    for _ in range(30):
        for chunk in np.array_split(np.random.default_rng(0).permutation(150), 5):
            clf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
    assert clf.t_ > 100
    assert clf.coef_.shape == (3, 4)
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(X[:5], np.full(5, 7))
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X[:5], y[:5], classes=[0, 1])
    with pytest.raises(ValueError, match="balanced"):
        GDClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_early_stopping_scores_accuracy_and_warm_start():
    X, y = _standardized(load_breast_cancer)
    clf = GDClassifier(
        solver="sgd", early_stopping=True, random_state=0, alpha=1e-3
    ).fit(X, y)
    assert all(0.5 <= s <= 1.0 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    warm = GDClassifier(alpha=1e-2, warm_start=True, tol=1e-8).fit(X, y)
    first = warm.n_iter_
    warm.fit(X, y)
    assert warm.n_iter_ < first


def test_single_class_and_continuous_targets_raise():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="2 classes"):
        GDClassifier().fit(X, np.zeros(10))
    with pytest.raises(ValueError, match="Unknown label type"):
        GDClassifier().fit(X, np.linspace(0, 1, 10))


def test_losses_contract():
    labels = np.where(np.random.default_rng(1).random(60) > 0.5, 1.0, -1.0)
    for loss in (
        LogLoss(),
        Hinge(),
        Hinge().smoothed(0.3),
        ModifiedHuber(),
        SquaredHinge(),
    ):
        check_loss(loss, y=labels)
    # The perceptron's optimum is the zero model, which no stochastic run ends at
    # exactly: its maths only (its fits: test_perceptron_is_stochastic_only).
    check_loss(Perceptron(), y=labels, solvers=())
    codes = np.random.default_rng(2).integers(0, 4, 60).astype(float)
    check_loss(MultinomialLogLoss(n_classes=4), y=codes)


_STOCHASTIC_WEIGHTS = (
    "a weight of 2 is one gradient step of twice the size, not two steps at two "
    "points of the epoch: Adam follows another path (as SGDClassifier declares)"
)


def _expected_failed(estimator):
    if estimator.solver == "adam":
        return {
            "check_sample_weight_equivalence_on_dense_data": _STOCHASTIC_WEIGHTS,
            "check_sample_weight_equivalence_on_sparse_data": _STOCHASTIC_WEIGHTS,
        }
    return {}


@parametrize_with_checks(
    [
        # Tight tol: the weight-equivalence checks compare two fits at 1e-7.
        GDClassifier(tol=1e-12),
        GDClassifier(loss="hinge", tol=1e-12),
        GDClassifier(penalty="l1", alpha=1e-3, tol=1e-12),
        GDClassifier(solver="sgd"),
        GDClassifier(loss="modified_huber", solver="adam"),
    ],
    expected_failed_checks=_expected_failed,
)
def test_sklearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        check(estimator)


def test_parameters_and_defaults_are_sgdclassifier_like():
    params = GDClassifier().get_params()
    assert params == {
        "loss": "log_loss",
        "penalty": "l2",
        "alpha": 1e-4,
        "l1_ratio": 0.15,
        "positive": False,
        "penalty_weights": None,
        "fit_intercept": True,
        "solver": "auto",
        "max_iter": 1000,
        "tol": 1e-4,
        "n_iter_no_change": 5,
        "early_stopping": False,
        "validation_fraction": 0.1,
        "random_state": None,
        "verbose": 0,
        "warm_start": False,
        "class_weight": None,
        "epsilon": 0.1,
        "n_jobs": None,
        "batch_size": 128,
        "shuffle": True,
        "learning_rate": "adaptive",
        "eta0": 0.01,
        "power_t": 0.25,
        "momentum": 0.9,
        "nesterovs_momentum": True,
        "average": False,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "adam_eps": 1e-8,
    }
    assert "batch_size : int, default=128" in GDClassifier.__doc__
    assert "{" + "alpha}" not in GDClassifier.__doc__
    assert GDClassifier("hinge", alpha=0.5).get_params()["loss"] == "hinge"
    with pytest.raises(TypeError):
        GDClassifier("hinge", "l1")  # only loss is positional
    with pytest.raises(TypeError):
        GDClassifier(power=0.1)  # no such parameter


@pytest.mark.parametrize("solver", ["gd", "sgd"])
def test_refit_on_other_classes_or_without_warm_start_starts_afresh(solver):
    X, y = _standardized(load_iris)
    fresh = GDClassifier(solver=solver, random_state=0, max_iter=5, tol=None)
    fresh.fit(X, y)
    other = GDClassifier(solver=solver, random_state=0, max_iter=5, tol=None)
    other.set_params(warm_start=True).fit(X, np.where(y == 2, 5, y))  # classes 0 1 5
    other.fit(X, y)  # other classes: not continued
    np.testing.assert_array_equal(other.coef_, fresh.coef_)
    np.testing.assert_array_equal(other.intercept_, fresh.intercept_)
    cold = GDClassifier(solver=solver, random_state=0, max_iter=5, tol=None)
    cold.fit(X, y == 1).fit(X, y)  # no warm start: not continued
    np.testing.assert_array_equal(cold.coef_, fresh.coef_)


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
def test_multiclass_warm_start_and_partial_fit_continue_coef(loss):
    # The multinomial coefficients are stored transposed from the solvers'
    # layout: coef_init, a warm start and a pass after a full-batch fit start
    # from coef_'s values.
    X, y = _standardized(load_iris)
    done = GDClassifier(loss=loss, alpha=1e-2, tol=1e-10).fit(X, y)
    warm = GDClassifier(loss=loss, alpha=1e-2, tol=1e-10)
    warm.fit(X, y, coef_init=done.coef_, intercept_init=done.intercept_)
    assert warm.n_iter_ < done.n_iter_ / 2
    np.testing.assert_allclose(warm.coef_, done.coef_, atol=1e-4)
    warm.set_params(warm_start=True).fit(X, y)
    assert warm.n_iter_ < done.n_iter_ / 2
    np.testing.assert_allclose(warm.coef_, done.coef_, atol=1e-4)
    warm.set_params(solver="sgd", eta0=1e-6)
    warm.partial_fit(X, y)
    np.testing.assert_allclose(warm.coef_, done.coef_, atol=1e-3)
    assert warm.coef_.shape == (3, 4)
    assert warm.intercept_.shape == (3,)


def test_squared_hinge_is_optimal_and_matches_linear_svc():
    # LinearSVC minimises ||w||^2 / 2 + C sum_i max(0, 1 - y_i x_i w)^2; skgd the
    # mean loss plus alpha ||w||^2 / 2: the same optimum at C = 1 / (alpha n).
    X, y = _standardized(load_breast_cancer)
    alpha = 1e-2
    clf = GDClassifier(
        loss="squared_hinge", alpha=alpha, fit_intercept=False, solver="gd"
    )
    clf.set_params(tol=1e-14, max_iter=100_000).fit(X, y)
    # The squared hinge's objective is piecewise quadratic: Newton's method on
    # the set of margins below 1 ends at the exact optimum once the set is stable.
    labels, n = 2.0 * y - 1.0, X.shape[0]
    w = np.zeros(X.shape[1])
    for _ in range(100):
        active = labels * (X @ w) < 1.0
        A = X[active]
        w_next = np.linalg.solve(
            2.0 / n * A.T @ A + alpha * np.eye(X.shape[1]),
            2.0 / n * A.T @ labels[active],
        )
        if np.array_equal(labels * (X @ w_next) < 1.0, active):
            w = w_next
            break
        w = w_next
    # The certified gap bounds the distance to the optimum: alpha-strong convexity.
    assert clf.dual_gap_ <= 1e-14
    bound = np.sqrt(2.0 * clf.dual_gap_ / alpha)
    assert np.linalg.norm(clf.coef_[0] - w) <= bound < 2e-6
    # liblinear's primal solver stops at about 1e-5 of it.
    svc = LinearSVC(C=1 / (alpha * n), fit_intercept=False, tol=1e-12)
    svc.set_params(max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(svc.coef_[0], w, atol=1e-5)


def test_regression_losses_fit_the_labels_as_ridge_does():
    # loss="squared_error" is the ridge regression of the labels -1 and +1 (one
    # column per class beyond two), as in SGDClassifier.
    X, y = _standardized(load_iris)
    alpha = 1e-2
    clf = GDClassifier(loss="squared_error", alpha=alpha, solver="gd", tol=1e-12)
    clf.fit(X, y)
    targets = 2.0 * _onehot(y, 3) - 1.0
    ridge = Ridge(alpha=alpha * X.shape[0]).fit(X, targets)
    np.testing.assert_allclose(clf.coef_, ridge.coef_, atol=1e-9)
    np.testing.assert_allclose(clf.intercept_, ridge.intercept_, atol=1e-9)
    X, y = _standardized(load_breast_cancer)
    for loss in ("huber", "epsilon_insensitive", "squared_epsilon_insensitive"):
        clf = GDClassifier(loss=loss, epsilon=0.5, solver="sgd", random_state=0)
        assert clf.fit(X, y).score(X, y) > 0.95


def test_perceptron_is_stochastic_only():
    # Separable data: the perceptron's updates stop once all samples are right.
    X, y = make_blobs(200, centers=[[-2, -2], [2, 2]], random_state=0)
    clf = GDClassifier(loss="perceptron", solver="sgd", batch_size=1, random_state=0)
    assert clf.fit(X, y).score(X, y) == 1.0
    with pytest.raises(ValueError, match="smoothed"):
        GDClassifier(loss="perceptron", solver="gd").fit(X, y)


def test_sgdclassifier_errors_for_starts_streams_and_balance():
    X, y = _standardized(load_iris)
    clf = GDClassifier(solver="sgd")
    with pytest.raises(ValueError, match="coef_init does not match"):
        clf.fit(X, y, coef_init=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="intercept_init does not match"):
        clf.fit(X, y, intercept_init=np.zeros(1))
    binary = y > 0
    clf.fit(X, binary, coef_init=np.zeros(4), intercept_init=0.0)
    with pytest.raises(ValueError, match="coef_init does not match"):
        clf.fit(X, binary, coef_init=np.zeros(3))
    with pytest.raises(ValueError, match="early_stopping should be False"):
        GDClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="compute_class_weight"):
        GDClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_is_a_fresh_optimizer_from_the_last_iterate(solver):
    # As documented: coef_ and intercept_ carry over, the step counter t_ and the
    # optimizer's state (momentum, Adam's moments) start afresh.
    X, y = _standardized(load_iris)
    params = dict(solver=solver, max_iter=3, tol=None, random_state=0, shuffle=False)
    warm = GDClassifier(loss="hinge", warm_start=True, **params).fit(X, y)
    start_coef, start_intercept = warm.coef_.copy(), warm.intercept_.copy()
    warm.fit(X, y)
    assert warm.t_ == 3 * np.ceil(X.shape[0] / 128) + 1
    cold = GDClassifier(loss="hinge", **params)
    cold.fit(X, y, coef_init=start_coef, intercept_init=start_intercept)
    np.testing.assert_array_equal(warm.coef_, cold.coef_)
    np.testing.assert_array_equal(warm.intercept_, cold.intercept_)
    assert warm.t_ == cold.t_
