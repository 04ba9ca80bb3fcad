# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The deviance losses (Poisson, Gamma, Tweedie with a log link) end to end.

Against scikit-learn's GLMs (same alpha), KKT conditions of L1 fits checked
independently in float64, the conjugates by Fenchel-Young, the target domains, and
every input kind and solver.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import GammaRegressor, PoissonRegressor, TweedieRegressor
from sklearn.metrics import d2_tweedie_score

from skgd import GDRegressor
from skgd.losses import GammaDeviance, PoissonDeviance, TweedieDeviance, get_loss
from skgd.testing import check_loss

SK = {"poisson": PoissonRegressor, "gamma": GammaRegressor}


def _problem(family, n=400, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    coef = 0.3 * rng.normal(size=p)
    coef[::3] = 0.0  # so that L1 fits have exact zeros
    mu = np.exp(X @ coef + 0.5)
    y = rng.poisson(mu) if family == "poisson" else rng.gamma(2.0, mu / 2.0)
    return X, y.astype(float), rng.uniform(0.5, 2.0, size=n)


def _reference(loss, power, alpha, X, y, sw):
    if loss == "tweedie":
        est = TweedieRegressor(power=power, link="log", alpha=alpha)
    else:
        est = SK[loss](alpha=alpha)
    est.set_params(solver="newton-cholesky", tol=1e-14, max_iter=1000)
    return est.fit(X, y, sample_weight=sw)


@pytest.mark.parametrize(
    ("loss", "power", "family"),
    [
        ("poisson", 1.5, "poisson"),
        ("gamma", 1.5, "gamma"),
        ("tweedie", 1.5, "poisson"),
        ("tweedie", 1.2, "gamma"),
        ("tweedie", 1.0, "poisson"),
        ("tweedie", 2.0, "gamma"),
    ],
)
@pytest.mark.parametrize("alpha", [0.0, 0.01])
def test_equals_sklearn_glm(loss, power, family, alpha):
    X, y, sw = _problem(family)
    ref = _reference(loss, power, alpha, X, y, sw)
    penalty = "l2" if alpha else None
    est = GDRegressor(loss=loss, power=power, penalty=penalty, alpha=alpha, tol=1e-12)
    est.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=1e-11)
    assert abs(est.intercept_ - ref.intercept_) < 1e-11
    np.testing.assert_allclose(est.predict(X), ref.predict(X), rtol=1e-11)
    assert est.score(X, y, sw) == pytest.approx(ref.score(X, y, sw), abs=1e-12)


def _objective_parts(loss, X, y, sw, coef, intercept):
    """Return the float64 gradient of the mean deviance in (w, b), independently."""
    mu = np.exp(X @ coef + intercept)
    # d/d raw of half the unit deviance: mu**(1 - p) (mu - y).
    g = mu ** (1.0 - loss.power) * (mu - y) * sw / sw.sum()
    return X.T @ g, g.sum()


@pytest.mark.parametrize(
    ("loss", "family", "alpha"),
    [
        ("poisson", "poisson", 0.4),
        ("gamma", "gamma", 0.03),
        ("tweedie", "poisson", 0.3),
    ],
)
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_l1_kkt_and_gap(loss, family, alpha, l1_ratio):
    # Tweedie (power 1.5) has no gap: dual_gap_ is its proximal Newton decrement.
    X, y, sw = _problem(family, p=12, seed=1)
    est = GDRegressor(
        loss=loss, penalty="elasticnet", alpha=alpha, l1_ratio=l1_ratio, tol=1e-12
    ).fit(X, y, sample_weight=sw)
    w = est.coef_
    gw, gb = _objective_parts(get_loss(loss), X, y, sw, w, est.intercept_)
    gw = gw + alpha * (1 - l1_ratio) * w
    zero = w == 0
    assert zero.sum() >= 2, "the test needs exact zeros"
    assert abs(gb) < 1e-10
    np.testing.assert_allclose(
        gw[~zero], -alpha * l1_ratio * np.sign(w[~zero]), rtol=0, atol=1e-9
    )
    assert np.all(np.abs(gw[zero]) <= alpha * l1_ratio * (1 + 1e-9))
    assert 0 <= est.dual_gap_ < 1e-10


@pytest.mark.parametrize(
    ("loss", "family"),
    [
        (PoissonDeviance(), "poisson"),
        (GammaDeviance(), "gamma"),
        (TweedieDeviance(1.5), "poisson"),
        (TweedieDeviance(1.8), "gamma"),
    ],
)
def test_check_loss(loss, family):
    y = _problem(family, n=50)[1]
    check_loss(loss, y=y, solvers=("sgd", "adam", "newton"))


@pytest.mark.parametrize("loss", [PoissonDeviance(), GammaDeviance()])
def test_conjugate_fenchel_young(loss):
    rng = np.random.default_rng(0)
    y = np.array([0.0, 0.5, 1.0, 3.0]) + (loss.power == 2) * 0.25
    u = np.full(4, 0.25)
    raw = rng.normal(size=4)
    # Equality at the gradient: L(f) + L*(s) = s f with s = L'(f), sample by sample.
    s = loss.gradient(y, raw)
    conj = -loss.dual_value(y, -u * s, u)
    primal = np.sum(u * loss.pointwise(y, raw))
    assert conj + primal == pytest.approx(np.sum(u * s * raw), abs=1e-14)
    # The inequality elsewhere, and -inf outside the conjugate's domain.
    for shift in (-0.3, 0.2):
        s2 = s + shift
        value = -loss.dual_value(y, -u * s2, u) + primal - np.sum(u * s2 * raw)
        assert value > 0
    far = -u * (s - 100.0 if loss.power == 1 else s + 100.0)
    assert loss.dual_value(y, far, u) == -np.inf


def test_tweedie_matches_special_cases_and_sklearn_deviance():
    from sklearn._loss.loss import HalfTweedieLoss

    rng = np.random.default_rng(0)
    y, raw = rng.gamma(2.0, size=20), rng.normal(size=20)
    for p in (-1.0, 0.0, 1.5, 3.0):
        ref = HalfTweedieLoss(power=p)
        ours = TweedieDeviance(p).pointwise(y, raw)
        expected = ref.loss(y, raw) + ref.constant_to_optimal_zero(y)
        np.testing.assert_allclose(ours, expected, rtol=1e-13, atol=1e-13)
    assert get_loss("tweedie", power=1) == PoissonDeviance()
    assert get_loss("tweedie", power=2) == GammaDeviance()


@pytest.mark.parametrize("power", [0.0, 3.0])
def test_non_convex_power_is_a_stationary_point(power):
    X, y, sw = _problem("gamma")
    alpha = 0.01
    # No certificate here: the fit stops on the Newton decrement g.T H^-1 g / 2
    # (H with the curvature's absolute value), so tol bounds |g|**2, not |g|.
    est = GDRegressor(loss="tweedie", power=power, alpha=alpha, tol=1e-16)
    est.fit(X, y, sample_weight=sw)
    gw, gb = _objective_parts(
        TweedieDeviance(power), X, y, sw, est.coef_, est.intercept_
    )
    np.testing.assert_allclose(gw + alpha * est.coef_, 0.0, atol=1e-8)
    assert abs(gb) < 1e-8


@pytest.mark.parametrize(
    ("loss", "power", "y", "match"),
    [
        ("poisson", 1.5, [1.0, -1.0, 2.0], "y >= 0"),
        ("poisson", 1.5, [0.0, 0.0, 0.0], "some y > 0"),
        ("gamma", 1.5, [1.0, 0.0, 2.0], "y > 0"),
        ("tweedie", 1.5, [1.0, -0.5, 2.0], "y >= 0"),
        ("tweedie", 3.0, [1.0, 0.0, 2.0], "y > 0"),
        ("tweedie", 0.0, [-1.0, -2.0, 0.0], "some y > 0"),
    ],
)
def test_targets_outside_the_domain_raise(loss, power, y, match):
    X = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match=match):
        GDRegressor(loss=loss, power=power).fit(X, np.asarray(y))


def test_a_stream_batch_of_zero_counts_is_fine():
    X, y, _ = _problem("poisson")
    est = GDRegressor(loss="poisson", alpha=0.01, random_state=0)
    est.partial_fit(X, y)
    est.partial_fit(X[:5], np.zeros(5))
    with pytest.raises(ValueError, match="y >= 0"):
        est.partial_fit(X[:5], -np.ones(5))


def test_power_between_0_and_1_is_invalid():
    X, y, _ = _problem("poisson", n=20)
    with pytest.raises(ValueError, match="power"):
        GDRegressor(loss="tweedie", power=0.5).fit(X, y)


@pytest.mark.parametrize(
    ("loss", "family", "l1_alpha"),
    [
        ("poisson", "poisson", 0.3),
        ("gamma", "gamma", 0.03),
        ("tweedie", "poisson", 0.3),
    ],
)
@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("sparse", [False, True])
def test_gd_line_search_equals_newton(loss, family, l1_alpha, penalty, sparse):
    # "gd" reads the curvature along each step from its predictions (no global
    # bound exists). Its gap of 1e-16 relative bounds |w - w*| by sqrt(2 gap /
    # alpha) ~ 1e-8 for L2. Tweedie's gap, of a numerical conjugate bounded
    # from above with a margin for rounding, has a floor near 5e-14 here: 1e-13,
    # for Newton's reference too (its stop is checked by that gap).
    X, y, sw = _problem(family, p=12, seed=1)
    alpha = 0.01 if penalty == "l2" else l1_alpha
    kw = dict(loss=loss, penalty=penalty, alpha=alpha)
    tol = 1e-13 if loss == "tweedie" else 1e-16
    ref_tol = 1e-13 if loss == "tweedie" else 1e-14
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ref = GDRegressor(solver="newton", tol=ref_tol, **kw)
        ref.fit(X, y, sample_weight=sw)
    Xs = sp.csr_matrix(X) if sparse else X
    est = GDRegressor(solver="gd", tol=tol, **kw).fit(Xs, y, sample_weight=sw)
    assert est.n_iter_ < 100
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=1e-8)
    assert abs(est.intercept_ - ref.intercept_) < 1e-8
    if penalty == "l1" and loss != "tweedie":
        np.testing.assert_array_equal(est.coef_ == 0, ref.coef_ == 0)


def test_wide_problems_take_gd(monkeypatch):
    from skgd.solvers import _routing

    X, y, _ = _problem("poisson", p=6)
    kw = dict(loss="poisson", alpha=0.01, tol=1e-16)
    ref = GDRegressor(solver="gd", **kw).fit(X, y)
    # As if the 6 features were many: wider than Newton pays for.
    monkeypatch.setattr(_routing, "NEWTON_MAX_FEATURES", 5)
    np.testing.assert_array_equal(GDRegressor(**kw).fit(X, y).coef_, ref.coef_)


def test_sparse_float32_equal_dense():
    X, y, sw = _problem("poisson")
    X[np.abs(X) < 0.8] = 0.0
    kw = dict(loss="poisson", penalty="l1", alpha=0.02, tol=1e-12)
    dense = GDRegressor(**kw).fit(X, y, sample_weight=sw)
    sparse = GDRegressor(**kw).fit(sp.csr_matrix(X), y, sample_weight=sw)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(sparse.coef_ == 0, dense.coef_ == 0)
    single = GDRegressor(**{**kw, "tol": 1e-6}).fit(
        X.astype(np.float32), y.astype(np.float32), sample_weight=sw
    )
    assert single.coef_.dtype == np.float32
    assert single.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(single.coef_, dense.coef_, atol=1e-4)


def test_predict_is_the_mean_and_score_is_d2():
    X, y, sw = _problem("gamma")
    est = GDRegressor(loss="gamma", alpha=0.01).fit(X, y)
    mu = np.exp(X @ est.coef_ + est.intercept_)
    np.testing.assert_allclose(est.predict(X), mu, rtol=1e-14)
    expected = d2_tweedie_score(y, mu, sample_weight=sw, power=2)
    assert est.score(X, y, sw) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_reach_the_optimum(solver):
    X, y, _ = _problem("poisson")
    best = GDRegressor(loss="poisson", alpha=0.01, tol=1e-12).fit(X, y)
    est = GDRegressor(loss="poisson", alpha=0.01, solver=solver, random_state=0)
    est.fit(X, y)
    # Stochastic: within the noise of the default steps of the exact optimum.
    np.testing.assert_allclose(est.coef_, best.coef_, atol=0.05)
    assert est.score(X, y) == pytest.approx(best.score(X, y), abs=0.005)
    stream = GDRegressor(loss="poisson", alpha=0.01, solver=solver, random_state=0)
    for _ in range(20):
        stream.partial_fit(X, y)
    np.testing.assert_allclose(stream.coef_, best.coef_, atol=0.05)


def test_dask_equals_numpy():
    da = pytest.importorskip("dask.array")
    X, y, sw = _problem("poisson")
    # "auto" is "gd" on Dask (Newton pays on numpy only): the same solver on both.
    kw = dict(loss="poisson", penalty="l1", alpha=0.02, tol=1e-12)
    ref = GDRegressor(solver="gd", **kw).fit(X, y, sample_weight=sw)
    chunks = (100, X.shape[1])
    est = GDRegressor(**kw).fit(
        da.from_array(X, chunks=chunks),
        da.from_array(y, chunks=100),
        sample_weight=da.from_array(sw, chunks=100),
    )
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=1e-12)
    pred = est.predict(da.from_array(X, chunks=chunks)).compute()
    np.testing.assert_allclose(pred, ref.predict(X), rtol=1e-12)


@pytest.mark.parametrize("namespace", ["torch", "array_api_strict"])
def test_array_api_equals_numpy(namespace):
    xp = pytest.importorskip(namespace)
    import os

    import sklearn

    if os.environ.get("SCIPY_ARRAY_API") != "1":
        pytest.skip("SCIPY_ARRAY_API=1 is needed for array_api_dispatch")
    X, y, _ = _problem("gamma")
    # "auto" is "gd" off numpy (Newton pays on numpy only): the same on both.
    kw = dict(loss="gamma", penalty="l2", alpha=0.01, tol=1e-12)
    ref = GDRegressor(solver="gd", **kw).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRegressor(**kw).fit(xp.asarray(X), xp.asarray(y))
        pred = est.predict(xp.asarray(X))
    assert type(pred) is type(xp.asarray(X))
    coef = np.asarray(est.coef_ if namespace != "torch" else est.coef_.numpy())
    np.testing.assert_allclose(coef, ref.coef_, rtol=0, atol=1e-12)
    pred = np.asarray(pred if namespace != "torch" else pred.numpy())
    np.testing.assert_allclose(pred, ref.predict(X), rtol=1e-12)


def test_two_targets_score_is_the_mean_d2():
    X, y, _ = _problem("poisson")
    Y = np.c_[y, y + 1.0]
    est = GDRegressor(loss="poisson", alpha=0.01, tol=1e-10).fit(X, Y)
    for k in range(2):
        single = GDRegressor(loss="poisson", alpha=0.01, tol=1e-10).fit(X, Y[:, k])
        np.testing.assert_allclose(est.coef_[k], single.coef_, rtol=0, atol=1e-12)
    pred = est.predict(X)
    expected = np.mean([d2_tweedie_score(Y[:, k], pred[:, k], power=1) for k in (0, 1)])
    assert est.score(X, Y) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_overflow_is_a_clear_error(solver):
    X, y, _ = _problem("poisson")
    with pytest.raises(ValueError, match="diverged"):
        GDRegressor(loss="poisson", solver=solver, eta0=10.0).fit(10.0 * X, y)


@pytest.mark.parametrize("loss", ["poisson", PoissonDeviance()])
def test_onnx_applies_the_link(loss):
    pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    from skl2onnx import to_onnx

    from skgd import register_onnx_converter

    register_onnx_converter()
    X, y, _ = _problem("poisson")
    est = GDRegressor(loss=loss, alpha=0.01).fit(X, y)
    onx = to_onnx(est, X[:1])
    sess = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    got = sess.run(None, {sess.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(got.ravel(), est.predict(X), rtol=1e-12)


@pytest.mark.dask
def test_dask_on_a_cluster_equals_numpy():
    # Poisson, Gamma and Tweedie on a distributed LocalCluster: the iterates of
    # the numpy fit ("gd", the solver "auto" picks on Dask), with sample weights.
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    X, y, sw = _problem("gamma")
    chunks = (100, X.shape[1])
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        for loss in ["poisson", "gamma", "tweedie"]:
            kw = dict(loss=loss, penalty="elasticnet", alpha=0.02, tol=1e-10)
            ref = GDRegressor(solver="gd", **kw).fit(X, y, sample_weight=sw)
            Xd = da.from_array(X, chunks=chunks)
            est = GDRegressor(**kw).fit(
                Xd, da.from_array(y, chunks=100), sample_weight=da.from_array(sw, 100)
            )
            np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=1e-12)
            assert est.n_iter_ == ref.n_iter_
            pred = est.predict(Xd).compute()
            np.testing.assert_allclose(pred, ref.predict(X), rtol=1e-12)
