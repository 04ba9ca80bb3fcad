# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import TIGHT_TOL, make_problem
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge
from sklearn.utils._param_validation import InvalidParameterError

from skgd import GDRegressor


def objective(X, y, coef, intercept, *, alpha, l1_ratio, sample_weight=None):
    """The contract's objective for the squared loss, written independently."""
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    r = y - X @ coef - intercept
    return 0.5 * np.sum(s * r * r) / np.sum(s) + alpha * (
        l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * (coef @ coef)
    )


def reference(penalty, alpha, l1_ratio, fit_intercept, n_samples):
    """The sklearn estimator with the same optimum (contract, 'The objective')."""
    kw = {"fit_intercept": fit_intercept}
    if penalty == "l1":
        return Lasso(alpha=alpha, tol=1e-14, max_iter=100_000, **kw), 1.0
    if penalty == "elasticnet":
        ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000)
        return ref.set_params(**kw), l1_ratio
    if penalty == "l2":
        return Ridge(alpha=alpha * n_samples, **kw), 0.0
    return LinearRegression(**kw), 0.0


PENALTIES = ["l1", "elasticnet", "l2", None]


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("data", ["generated", "diabetes"])
def test_estimator_matches_sklearn_optimum(penalty, fit_intercept, data, diabetes):
    X, y = make_problem(3) if data == "generated" else diabetes
    alpha = 0.1 if penalty != "l2" else 0.01
    ref, l1_ratio = reference(penalty, alpha, 0.5, fit_intercept, len(y))
    ref.fit(X, y)
    est = GDRegressor(
        penalty=penalty,
        alpha=alpha,
        l1_ratio=0.5,
        fit_intercept=fit_intercept,
        tol=TIGHT_TOL[penalty],
        max_iter=5000,
    ).fit(X, y)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8 * scale)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    kw = {"alpha": alpha if penalty else 0.0, "l1_ratio": l1_ratio}
    ours = objective(X, y, est.coef_, est.intercept_, **kw)
    theirs = objective(X, y, ref.coef_, ref.intercept_, **kw)
    assert ours <= theirs * (1 + 1e-12)
    assert ours == pytest.approx(est.loss_curve_[-1], rel=1e-10)


def test_estimator_l1_gives_exact_zeros(diabetes):
    X, y = diabetes
    est = GDRegressor(penalty="l1", alpha=1.0).fit(X, y)
    ref = Lasso(alpha=1.0, tol=1e-12).fit(X, y)
    np.testing.assert_array_equal(est.coef_ == 0, ref.coef_ == 0)
    assert (est.coef_ == 0).sum() >= 3


def test_estimator_default_tol_certifies_relative_gap(diabetes):
    # tol bounds the duality gap relative to the objective at zero coefficients.
    X, y = diabetes
    est = GDRegressor(penalty="elasticnet", alpha=0.1, l1_ratio=0.5).fit(X, y)
    ref = ElasticNet(alpha=0.1, l1_ratio=0.5, tol=1e-14, max_iter=100_000).fit(X, y)
    kw = {"alpha": 0.1, "l1_ratio": 0.5}
    p0 = 0.5 * np.mean((y - y.mean()) ** 2)
    gap = objective(X, y, est.coef_, est.intercept_, **kw) - objective(
        X, y, ref.coef_, ref.intercept_, **kw
    )
    assert 0 <= gap <= 1e-4 * p0


def test_estimator_minimum_norm_when_underdetermined(regression_data):
    X, y = regression_data["wide"]
    est = GDRegressor(penalty=None, tol=1e-22, max_iter=20_000).fit(X, y)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.predict(X), y, rtol=1e-6)


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_estimator_unscaled_features_converge_with_defaults(penalty, seed):
    # Columns scaled by 1e-3 ... 1e3 (and offset): the defaults must still converge,
    # to within the default tol of the exact optimum.
    X, y = make_problem(seed, 200, 7)
    X = X * np.logspace(-3, 3, X.shape[1]) + 100.0
    alpha = 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GDRegressor(penalty=penalty, alpha=alpha).fit(X, y)
    ref, l1_ratio = reference(penalty, alpha, 0.5, True, len(y))
    ref.fit(X, y)
    kw = {"alpha": alpha, "l1_ratio": l1_ratio}
    p0 = 0.5 * np.mean((y - y.mean()) ** 2)
    ours = objective(X, y, est.coef_, est.intercept_, **kw)
    theirs = objective(X, y, ref.coef_, ref.intercept_, **kw)
    assert ours - theirs <= 1e-4 * p0
    assert est.n_iter_ < 300


@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2", None])
def test_estimator_integer_weights_equal_repeated_rows(penalty, seed):
    X, y = make_problem(seed)
    weights = np.random.default_rng(seed).integers(0, 4, size=len(y))
    kw = {"penalty": penalty, "alpha": 0.05, "tol": TIGHT_TOL[penalty]}
    weighted = GDRegressor(**kw).fit(X, y, sample_weight=weights)
    repeated = GDRegressor(**kw).fit(X.repeat(weights, 0), y.repeat(weights))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-7)


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_estimator_weighted_matches_sklearn(penalty, diabetes):
    X, y = diabetes
    s = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y))
    ref, _ = reference(penalty, 0.1, 0.5, True, len(y))
    if penalty == "l2":
        ref.set_params(alpha=0.1 * s.sum())
    ref.fit(X, y, sample_weight=s)
    est = GDRegressor(penalty=penalty, alpha=0.1, tol=TIGHT_TOL[penalty]).fit(
        X, y, sample_weight=s
    )
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_estimator_sparse_equals_dense(fmt, fit_intercept, penalty, seed):
    rng = np.random.default_rng(seed)
    X = sp.random(80, 15, density=0.3, format=fmt, random_state=seed) * 10 + 0
    X.data += 5.0  # non-zero entries far from zero: centering matters
    y = rng.normal(size=80) + X @ rng.normal(size=15)
    s = rng.uniform(0.5, 2, size=80)
    kw = {"penalty": penalty, "alpha": 0.01, "fit_intercept": fit_intercept}
    kw["tol"] = TIGHT_TOL[penalty]
    dense = GDRegressor(**kw).fit(X.toarray(), y, sample_weight=s)
    sparse = GDRegressor(**kw).fit(X, y, sample_weight=s)
    assert X.format == fmt
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-7)
    np.testing.assert_allclose(sparse.predict(X), dense.predict(X.toarray()), rtol=1e-7)


def test_estimator_sparse_is_never_densified(monkeypatch):
    X = sp.random(50, 8, density=0.2, format="csr", random_state=0)
    y = np.arange(50.0)

    def forbidden(*args, **kwargs):
        raise AssertionError("sparse X was densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", forbidden)
    monkeypatch.setattr(sp.csr_matrix, "todense", forbidden)
    GDRegressor(penalty="l1", alpha=0.01).fit(X, y).predict(X)


@pytest.mark.parametrize("order", ["C", "F"])
def test_estimator_float32_stays_float32(order, seed):
    X64, y = make_problem(seed, 100, 10)
    X = np.asarray(X64, dtype=np.float32, order=order)
    est = GDRegressor(penalty="elasticnet", alpha=0.1, tol=1e-7).fit(X, y)
    assert est.coef_.dtype == np.float32
    assert est.intercept_.dtype == np.float32
    assert est.predict(X).dtype == np.float32
    ref = GDRegressor(penalty="elasticnet", alpha=0.1, tol=1e-20).fit(X64, y)
    # float32 rounding limits accuracy relative to the largest coefficient.
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-3, atol=1e-3 * scale)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-3)


def test_estimator_float32_reaches_float32_accuracy_on_diabetes(diabetes):
    X64, y = diabetes
    X = X64.astype(np.float32)
    est = GDRegressor(penalty="elasticnet", alpha=0.1, l1_ratio=0.5, tol=1e-6)
    est.fit(X, y)
    ref = GDRegressor(penalty="elasticnet", alpha=0.1, l1_ratio=0.5, tol=1e-20)
    ref.fit(X64, y)
    kw = {"alpha": 0.1, "l1_ratio": 0.5}
    p0 = 0.5 * np.mean((y - y.mean()) ** 2)
    gap = objective(X64, y, est.coef_.astype(float), float(est.intercept_), **kw)
    gap -= objective(X64, y, ref.coef_, ref.intercept_, **kw)
    assert gap <= 1e-5 * p0


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_estimator_dense_x_is_not_copied(order, dtype, weighted):
    rng = np.random.default_rng(0)
    n = 20_000
    X = np.asarray(rng.normal(size=(n, 100)), dtype=dtype, order=order)
    y = X[:, 0] + rng.normal(size=n)
    s = rng.uniform(0.5, 1.5, size=n) if weighted else None
    est = GDRegressor(penalty="l1", alpha=0.01, max_iter=20)
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=s)
    est.predict(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The n-vectors of the solver (predictions, residuals) are all that may remain.
    assert peak < 0.3 * X.nbytes


def test_estimator_multi_target_is_independent_problems(seed):
    X, y = make_problem(seed)
    Y = np.column_stack([y, -2 * y + X[:, 3], X[:, 1]])
    kw = {"penalty": "elasticnet", "alpha": 0.05, "l1_ratio": 0.5, "tol": 1e-20}
    multi = GDRegressor(**kw).fit(X, Y)
    assert multi.coef_.shape == (3, X.shape[1])
    assert multi.intercept_.shape == (3,)
    assert multi.predict(X).shape == (len(y), 3)
    singles = [GDRegressor(**kw).fit(X, Y[:, k]) for k in range(3)]
    for k, single in enumerate(singles):
        np.testing.assert_allclose(multi.coef_[k], single.coef_, rtol=1e-10)
        np.testing.assert_allclose(multi.intercept_[k], single.intercept_, rtol=1e-10)
    assert multi.n_iter_ == max(s.n_iter_ for s in singles)
    assert len(multi.loss_curve_) == multi.n_iter_
    total = sum(s.loss_curve_[-1] for s in singles)
    assert multi.loss_curve_[-1] == pytest.approx(total, rel=1e-12)
    ref = ElasticNet(alpha=0.05, l1_ratio=0.5, tol=1e-14, max_iter=100_000).fit(X, Y)
    np.testing.assert_allclose(multi.coef_, ref.coef_, rtol=1e-6, atol=1e-8)


def test_estimator_fitted_attributes(diabetes):
    X, y = diabetes
    est = GDRegressor(penalty="l1", alpha=0.1).fit(X, y)
    assert isinstance(est.n_iter_, int)
    assert est.n_iter_ >= 1
    assert len(est.loss_curve_) == est.n_iter_
    assert est.n_features_in_ == X.shape[1]
    assert np.ndim(est.intercept_) == 0
    assert est.intercept_.dtype == np.float64
    assert np.all(np.isfinite(est.loss_curve_))


def test_estimator_pandas_input_sets_feature_names(diabetes):
    pd = pytest.importorskip("pandas")
    X, y = diabetes
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = GDRegressor().fit(df, pd.Series(y))
    np.testing.assert_array_equal(est.feature_names_in_, df.columns)
    np.testing.assert_allclose(est.predict(df), GDRegressor().fit(X, y).predict(X))


def test_estimator_warm_start_continues(diabetes):
    X, y = diabetes
    est = GDRegressor(penalty="l1", alpha=0.1, warm_start=True, tol=1e-10).fit(X, y)
    first = est.coef_.copy()
    est.fit(X, y)
    assert est.n_iter_ <= 2
    np.testing.assert_allclose(est.coef_, first, rtol=1e-4, atol=1e-6)


def test_estimator_coef_init_is_used(diabetes):
    X, y = diabetes
    opt = GDRegressor(penalty="l2", alpha=0.1, tol=1e-12).fit(X, y)
    est = GDRegressor(penalty="l2", alpha=0.1, tol=1e-12)
    est.fit(X, y, coef_init=opt.coef_, intercept_init=opt.intercept_)
    assert est.n_iter_ <= 1
    with pytest.raises(ValueError, match="coef_init has shape"):
        est.fit(X, y, coef_init=np.zeros(3))


def test_estimator_convergence_warning_and_tol_none(diabetes):
    X, y = diabetes
    # (At tol=1e-4 one run of coordinate descent on G, one iteration, meets it.)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        GDRegressor(penalty="l1", alpha=0.01, max_iter=2, tol=1e-15).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GDRegressor(penalty="l1", alpha=0.01, max_iter=7, tol=None).fit(X, y)
    assert est.n_iter_ == 7


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.array([[1.0, np.nan], [2.0, 3.0]]), [1.0, 2.0], "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), [1.0, 2.0], "infinity"),
        (np.ones((3, 2)), [1.0, np.nan, 2.0], "NaN"),
        (np.ones((3, 2)), [1.0, 2.0], "inconsistent numbers of samples"),
        (np.ones((0, 2)), [], "0 sample"),
        (np.ones((3, 0)), [1.0, 2.0, 3.0], "0 feature"),
    ],
)
def test_estimator_bad_input_raises_clear_error(X, y, match):
    with pytest.raises(ValueError, match=match):
        GDRegressor().fit(X, y)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1.0, -1.0, 1.0], "(?i)negative"),
        ([0.0, 0.0, 0.0], "zero"),
        ([1.0, 2.0], "shape"),
    ],
)
def test_estimator_bad_sample_weight_raises(weights, match):
    with pytest.raises(ValueError, match=match):
        GDRegressor().fit(np.eye(3), [1.0, 2.0, 3.0], sample_weight=weights)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_estimator_overflowing_data_raises_instead_of_nonsense(dtype):
    big = 1e30 if dtype == np.float32 else 1e200
    X = np.random.default_rng(0).normal(size=(20, 3)).astype(dtype) * big
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own overflow note
        with pytest.raises(ValueError, match="overflow"):
            GDRegressor().fit(X, np.arange(20.0))


def test_estimator_predict_before_fit_and_feature_mismatch():
    with pytest.raises(NotFittedError):
        GDRegressor().predict(np.ones((2, 2)))
    est = GDRegressor().fit(np.eye(3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="features"):
        est.predict(np.ones((2, 4)))


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("alpha", -1.0),
        ("l1_ratio", 1.5),
        ("penalty", "l3"),
        ("loss", "absolute"),
        ("solver", "newton-cg"),
        ("max_iter", 0),
        ("tol", -1e-3),
        ("fit_intercept", "yes"),
    ],
)
def test_estimator_invalid_parameter_names_it(param, value):
    with pytest.raises(InvalidParameterError, match=param):
        GDRegressor(**{param: value}).fit(np.eye(3), [1.0, 2.0, 3.0])


def test_estimator_constant_target_and_constant_feature():
    X = np.column_stack([np.arange(10.0), np.full(10, 7.0)])
    est = GDRegressor(penalty=None, tol=1e-20).fit(X, np.full(10, 3.0))
    np.testing.assert_allclose(est.coef_, 0.0, atol=1e-12)
    assert est.intercept_ == pytest.approx(3.0)
    y = 2 * X[:, 0] + 1
    est = GDRegressor(penalty=None, tol=1e-22).fit(X, y)
    np.testing.assert_allclose(est.coef_, [2.0, 0.0], atol=1e-9)
    assert est.intercept_ == pytest.approx(1.0)


def test_estimator_parameters_and_defaults():
    params = GDRegressor().get_params()
    assert params == {
        "loss": "squared_error",
        "penalty": "l2",
        "alpha": 1e-4,
        "l1_ratio": 0.15,
        "epsilon": 0.1,
        "power": 1.5,
        "positive": False,
        "penalty_weights": None,
        "quantile": 0.5,
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
        "batch_size": 256,
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
    assert "batch_size : int, default=256" in GDRegressor.__doc__
    assert GDRegressor("huber", epsilon=1.0).get_params()["epsilon"] == 1.0
    with pytest.raises(TypeError):
        GDRegressor("huber", "l1")  # only loss is positional
    with pytest.raises(TypeError):
        GDRegressor(class_weight=None)  # the classifier's parameter
