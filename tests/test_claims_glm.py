# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The deviance losses: the claims the other test files leave open.

- ``positive=True`` with Poisson, Gamma and Tweedie under every penalty meets the
  KKT conditions of the constrained problem, checked here in float64, and the
  reported gap bounds the distance to the optimum.
- ``penalty_weights`` (a zero weight among them) with Gamma and Tweedie, with and
  without ``positive``, meets the weighted KKT conditions.
- The stochastic solvers reach the Gamma and Tweedie optima as they reach
  Poisson's; the Array API (torch) equals numpy for Poisson and Tweedie; the
  ONNX graph applies the link for Gamma and Tweedie; Tweedie's power is 1.5 by
  default.
- The gallery's examples of the deviance and quantile losses run.
"""

import runpy
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skgd import GDRegressor

POWER = {"poisson": 1.0, "gamma": 2.0, "tweedie": 1.5}
FAMILY = {"poisson": "poisson", "gamma": "gamma", "tweedie": "poisson"}


def _problem(family, n=300, p=8, seed=3):
    """Counts or positive amounts; some true coefficients negative or zero."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    coef = 0.3 * rng.normal(size=p)
    coef[::3] = 0.0
    mu = np.exp(X @ coef + 0.5)
    y = rng.poisson(mu) if family == "poisson" else rng.gamma(2.0, mu / 2.0)
    return X, y.astype(float), rng.uniform(0.5, 2.0, size=n)


def _gradient(loss, X, y, sw, coef, intercept):
    """The float64 gradient of the weighted mean half deviance in (w, b)."""
    mu = np.exp(X @ coef + intercept)
    g = mu ** (1.0 - POWER[loss]) * (mu - y) * sw / sw.sum()
    return X.T @ g, g.sum()


def _objective(loss, X, y, sw, coef, intercept, l1, l2):
    """The objective up to a constant: half deviance less its y-only terms."""
    raw = X @ coef + intercept
    p = POWER[loss]
    if p == 1.0:
        unit = np.exp(raw) - y * raw
    elif p == 2.0:
        unit = raw + y * np.exp(-raw)
    else:
        unit = np.exp((2 - p) * raw) / (2 - p) - y * np.exp((1 - p) * raw) / (1 - p)
    data = np.sum(sw * unit) / sw.sum()
    return data + l1 @ np.abs(coef) + 0.5 * (l2 * coef) @ coef


def _tight(loss, penalty, alpha, l1_ratio, **params):
    """An estimator at 1e-12 where a duality gap certifies, else at 1e-16.

    Any loss without a penalty stops on the proximal-gradient measure, which
    bounds the squared gradient: 1e-16 for a gradient near 1e-8, as a gap of
    1e-12 gives. Tweedie with a penalty stops on the (proximal) Newton
    decrement, or with ``"gd"`` on the gap of its numerical conjugate, whose
    margin for rounding sets a floor near 5e-14: 1e-13.
    """
    tol = 1e-16 if penalty is None else 1e-13 if loss == "tweedie" else 1e-12
    kw = dict(loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=tol)
    return GDRegressor(max_iter=100_000, **kw, **params)


PENALTIES = [("l1", 0.02, 1.0), ("elasticnet", 0.02, 0.5), ("l2", 0.01, 0.0)]


def _kkt(loss, X, y, sw, est, l1, l2, positive):
    """Largest violation of the KKT conditions, in float64.

    ``l1`` and ``l2`` are per feature. Stationarity: ``g_j + l2_j w_j`` is
    ``-l1_j sign(w_j)`` on the support, within ``[-l1_j, l1_j]`` at 0 (at least
    ``-l1_j`` with ``positive``), and the intercept's derivative vanishes.
    """
    w = np.asarray(est.coef_, dtype=np.float64)
    gw, gb = _gradient(loss, X, y, sw, w, float(est.intercept_))
    g = gw + l2 * w
    on = w != 0
    if positive:
        assert w.min() >= 0.0
    stationarity = np.abs(g[on] + l1[on] * np.sign(w[on])).max(initial=0.0)
    low = -(g[~on] + l1[~on]).min(initial=0.0)
    high = 0.0 if positive else (g[~on] - l1[~on]).max(initial=0.0)
    return max(stationarity, low, high, abs(gb))


@pytest.mark.parametrize(("penalty", "alpha", "l1_ratio"), [*PENALTIES, (None, 0, 0)])
@pytest.mark.parametrize("loss", ["poisson", "gamma", "tweedie"])
def test_positive_meets_the_kkt_conditions(loss, penalty, alpha, l1_ratio):
    X, y, sw = _problem(FAMILY[loss])
    est = _tight(loss, penalty, alpha, l1_ratio, positive=True)
    with warnings.catch_warnings():
        # Without a penalty there is no gap: the fit says it is not certified.
        if penalty is None:
            warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=sw)
    assert np.sum(est.coef_ == 0) >= 1, "the constraint must be active"
    p = X.shape[1]
    l1, l2 = np.full(p, alpha * l1_ratio), np.full(p, alpha * (1 - l1_ratio))
    assert _kkt(loss, X, y, sw, est, l1, l2, positive=True) < 1e-6


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
@pytest.mark.parametrize(("penalty", "alpha", "l1_ratio"), PENALTIES[:2])
def test_positive_gap_bounds_the_suboptimality(loss, penalty, alpha, l1_ratio):
    X, y, sw = _problem(FAMILY[loss])
    p = X.shape[1]
    l1, l2 = np.full(p, alpha * l1_ratio), np.full(p, alpha * (1 - l1_ratio))
    kw = dict(loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio)
    kw.update(positive=True)
    best = GDRegressor(tol=1e-14, **kw).fit(X, y, sample_weight=sw)
    assert _kkt(loss, X, y, sw, best, l1, l2, positive=True) < 1e-9
    f_best = _objective(loss, X, y, sw, best.coef_, best.intercept_, l1, l2)
    for tol in (1e-2, 1e-4):
        est = GDRegressor(solver="gd", tol=tol, **kw).fit(X, y, sample_weight=sw)
        excess = _objective(loss, X, y, sw, est.coef_, est.intercept_, l1, l2) - f_best
        assert -1e-12 <= excess <= est.dual_gap_ * (1 + 1e-9) + 1e-14


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize(("penalty", "alpha", "l1_ratio"), PENALTIES[:2])
@pytest.mark.parametrize("loss", ["gamma", "tweedie"])
def test_penalty_weights_meet_the_kkt_conditions(
    loss, penalty, alpha, l1_ratio, positive
):
    X, y, sw = _problem(FAMILY[loss])
    c = np.linspace(0.5, 2.0, X.shape[1])
    c[1] = 0.0  # an unpenalized feature
    est = _tight(loss, penalty, alpha, l1_ratio, penalty_weights=c, positive=positive)
    est.fit(X, y, sample_weight=sw)
    assert np.sum(est.coef_ == 0) >= 1, "the test needs exact zeros"
    l1, l2 = alpha * l1_ratio * c, alpha * (1 - l1_ratio) * c
    assert _kkt(loss, X, y, sw, est, l1, l2, positive) < 1e-6


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("loss", ["gamma", "tweedie"])
def test_stochastic_solvers_reach_the_gamma_and_tweedie_optima(loss, solver):
    # As tests/test_glm.py asks of Poisson: within the noise of the default steps.
    X, y, _ = _problem(FAMILY[loss])
    best = GDRegressor(loss=loss, alpha=0.01, tol=1e-12).fit(X, y)
    est = GDRegressor(loss=loss, alpha=0.01, solver=solver, random_state=0)
    est.fit(X, y)
    np.testing.assert_allclose(est.coef_, best.coef_, atol=0.05)
    assert est.score(X, y) == pytest.approx(best.score(X, y), abs=0.005)
    stream = GDRegressor(loss=loss, alpha=0.01, solver=solver, random_state=0)
    for _ in range(20):
        stream.partial_fit(X, y)
    np.testing.assert_allclose(stream.coef_, best.coef_, atol=0.05)


@pytest.mark.array_api
@pytest.mark.parametrize(
    ("loss", "penalty"), [("poisson", "l1"), ("tweedie", "elasticnet")]
)
def test_torch_equals_numpy(loss, penalty):
    import sklearn

    torch = pytest.importorskip("torch")
    X, y, sw = _problem(FAMILY[loss])
    # "auto" is "gd" off numpy: the same solver on both.
    kw = dict(loss=loss, penalty=penalty, alpha=0.02, tol=1e-12)
    ref = GDRegressor(solver="gd", **kw).fit(X, y, sample_weight=sw)
    try:
        with sklearn.config_context(array_api_dispatch=True):
            Xt = torch.asarray(X)
            est = GDRegressor(**kw).fit(
                Xt, torch.asarray(y), sample_weight=torch.asarray(sw)
            )
            pred = est.predict(Xt)
    except RuntimeError as exc:  # sklearn's check without SCIPY_ARRAY_API=1
        pytest.skip(str(exc))
    assert isinstance(pred, torch.Tensor)
    np.testing.assert_allclose(est.coef_.numpy(), ref.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pred.numpy(), ref.predict(X), rtol=1e-12)


@pytest.mark.parametrize(("loss", "power"), [("gamma", 2.0), ("tweedie", 1.5)])
def test_onnx_applies_the_link_for_gamma_and_tweedie(loss, power):
    pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    from skl2onnx import to_onnx

    from skgd import register_onnx_converter

    register_onnx_converter()
    X, y, _ = _problem("gamma")
    est = GDRegressor(loss=loss, power=power, alpha=0.01).fit(X, y)
    onx = to_onnx(est, X[:1])
    sess = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    got = sess.run(None, {sess.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(got.ravel(), est.predict(X), rtol=1e-12)


def test_tweedie_power_defaults_to_1_5():
    X, y, _ = _problem("gamma", n=50)
    assert GDRegressor().get_params()["power"] == 1.5
    default = GDRegressor(loss="tweedie", alpha=0.01, tol=1e-12).fit(X, y)
    explicit = GDRegressor(loss="tweedie", power=1.5, alpha=0.01, tol=1e-12)
    np.testing.assert_array_equal(default.coef_, explicit.fit(X, y).coef_)


@pytest.mark.slow  # (each fits scikit-learn's reference too: tens of seconds)
@pytest.mark.parametrize("name", ["plot_poisson_l1", "plot_quantile_band"])
def test_gallery_examples_run(name):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(__file__).parents[1] / "docs" / "examples" / f"{name}.py"
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
