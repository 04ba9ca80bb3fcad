# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pytest

from skgd.losses import (
    EpsilonInsensitive,
    Huber,
    SquaredEpsilonInsensitive,
    SquaredError,
    get_loss,
)
from skgd.testing import check_loss

LOSSES = [
    SquaredError(),
    Huber(epsilon=0.7),
    EpsilonInsensitive(epsilon=0.3),
    SquaredEpsilonInsensitive(epsilon=0.3),
    EpsilonInsensitive(epsilon=0.3).smoothed(0.5),
]


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_losses_contract(loss, seed):
    check_loss(loss, seed=seed)


def test_losses_closed_forms_match_sgdregressor_definitions():
    y = np.zeros(5)
    raw = np.array([-3.0, -0.5, 0.0, 0.2, 2.0])
    r = y - raw
    np.testing.assert_allclose(SquaredError().pointwise(y, raw), r**2 / 2, rtol=1e-12)
    eps = 1.0
    huber = np.where(np.abs(r) <= eps, r**2 / 2, eps * np.abs(r) - eps**2 / 2)
    np.testing.assert_allclose(Huber(eps).pointwise(y, raw), huber, rtol=1e-12)
    ei = np.maximum(0, np.abs(r) - eps)
    np.testing.assert_allclose(
        EpsilonInsensitive(eps).pointwise(y, raw), ei, rtol=1e-12
    )
    np.testing.assert_allclose(
        SquaredEpsilonInsensitive(eps).pointwise(y, raw), ei**2, rtol=1e-12
    )


def test_losses_smoothing_is_within_half_width():
    rng = np.random.default_rng(0)
    y, raw = rng.normal(size=200), rng.normal(scale=3, size=200)
    loss = EpsilonInsensitive(0.2)
    for mu in (1.0, 0.1, 1e-3):
        diff = loss.pointwise(y, raw) - loss.smoothed(mu).pointwise(y, raw)
        assert np.all(diff >= -1e-15)
        assert np.all(diff <= mu / 2 + 1e-15)


def test_losses_get_loss():
    assert get_loss("squared_error") == SquaredError()
    assert get_loss("huber", epsilon=2.0) == Huber(2.0)
    loss = Huber(0.3)
    assert get_loss(loss) is loss


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classification_balanced_dual_points_are_feasible_and_sum_to_zero(dtype):
    # The intercept needs sum_i theta_i = 0; the balanced point must also stay in
    # the conjugate's domain (margins y theta / u in [0, m], multinomial rows in
    # the simplex), with zero weights and one class of zero weight too.
    from skgd.losses import Hinge, LogLoss, ModifiedHuber, MultinomialLogLoss

    rng = np.random.default_rng(0)
    n = 60
    margin = [(LogLoss(), 1), (Hinge().smoothed(0.3), 1), (ModifiedHuber(), 4)]
    for trial in range(20):
        u = rng.uniform(0.1, 1.0, n)
        u[:5] = 0.0
        y = np.where(rng.uniform(size=n) > 0.3, 1.0, -1.0)
        if trial % 5 == 0:
            u[y < 0] = 0.0  # the negative class weighs nothing
        u = (u / u.sum()).astype(dtype)
        y = y.astype(dtype)
        raw = rng.normal(scale=3, size=n).astype(dtype)
        for loss, m in margin:
            theta = -u * loss.gradient(y, raw)
            balanced, _ = loss.balance_dual(y, theta, u)
            s = y * balanced / np.where(u > 0, u, 1)
            assert balanced.dtype == dtype
            assert abs(balanced.sum()) <= (1e-6 if dtype == np.float32 else 1e-15)
            assert s.min() >= 0
            assert s.max() <= m * (1 + 1e-6)
        multi = MultinomialLogLoss(3)
        labels = rng.integers(0, 3, n).astype(dtype)
        raw3 = rng.normal(scale=3, size=(n, 3)).astype(dtype)
        theta = -u[:, None] * multi.gradient(labels, raw3)
        balanced, _ = multi.balance_dual(labels, theta, u)
        q = np.eye(3)[labels.astype(int)] - balanced / np.where(u > 0, u, 1)[:, None]
        np.testing.assert_allclose(balanced.sum(axis=0), 0, atol=1e-6)
        assert q.min() >= -1e-6
        np.testing.assert_allclose(q.sum(axis=1), 1, atol=1e-5)


def test_loss_smoothed_is_not_provided_by_default():
    from skgd.losses import Loss

    assert Loss.curvature_bound is None
    with pytest.raises(NotImplementedError, match=r"Loss does not provide smoothed"):
        Loss().smoothed(1.0)
    smooth = EpsilonInsensitive(0.3).smoothed(0.5)
    assert smooth.is_smooth
    assert smooth.curvature_bound == 2.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_loss_gradient_hessian_and_pointwise_are_the_direct_formulas(dtype):
    # gradient_hessian shares one exp(-|raw|) between the two: the same values,
    # bit for bit, from the saturated margins to zero; pointwise is logaddexp
    # written out, to a few ulps (the dtype's largest value overflows neither).
    from skgd.losses import LogLoss, Loss

    rng = np.random.default_rng(0)
    raw = np.concatenate([rng.normal(scale=5, size=200), [0.0, -0.0, 40.0, -40.0]])
    big = float(np.finfo(dtype).max)
    raw = np.concatenate([raw, [70.0, -70.0, big, -big]]).astype(dtype)
    y = np.where(rng.uniform(size=raw.size) > 0.4, 1.0, -1.0).astype(dtype)
    loss = LogLoss()
    g, h = loss.gradient_hessian(y, raw)
    assert g.dtype == h.dtype == dtype
    assert np.array_equal(g, loss.gradient(y, raw))
    assert np.array_equal(h, loss.hessian(y, raw))
    with np.errstate(over="ignore"):
        direct = np.logaddexp(np.zeros_like(raw), -y * raw)
    np.testing.assert_allclose(
        loss.pointwise(y, raw), direct, rtol=8 * np.finfo(dtype).eps, atol=0
    )
    assert np.all(np.isfinite(loss.pointwise(y, raw)))

    # A subclass that changes one derivative gets its own, not the shared exp.
    class Steeper(LogLoss):
        def gradient(self, y, raw):
            return 2.0 * super().gradient(y, raw)

    g2, h2 = Steeper().gradient_hessian(y, raw)
    assert np.array_equal(g2, 2.0 * g)
    assert np.array_equal(h2, h)
    # The base class's default calls the two methods.
    assert Loss.gradient_hessian is not LogLoss.gradient_hessian
    g3, h3 = Loss.gradient_hessian(loss, y, raw)
    assert np.array_equal(g3, g)
    assert np.array_equal(h3, h)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_loss_value_is_exact_to_a_few_ulps(dtype):
    # max(z, 0) + log1p(exp(-|z|)) is logaddexp(0, z) written out, on numpy's
    # vectorized exp and log1p: against the value in extended precision it is
    # within 2 ulps in float64 (logaddexp: 1.5) and 3 in float32 (1.5), down
    # to the tails (exp(-800) underflows, 800 stays).
    from skgd.losses import LogLoss

    rng = np.random.default_rng(1)
    tails = [0.0, -0.0, 1e-300, 36.0, -36.0, 80.0, -80.0, 800, -800]
    raw = np.concatenate([rng.normal(scale=5, size=20_000), tails]).astype(dtype)
    y = np.where(rng.uniform(size=raw.size) > 0.4, 1.0, -1.0).astype(dtype)
    got = LogLoss().pointwise(y, raw)
    assert got.dtype == dtype
    z = (-y * raw).astype(np.longdouble)
    exact = np.logaddexp(np.zeros_like(z), z).astype(dtype)
    np.testing.assert_array_max_ulp(got, exact, maxulp=2 if dtype == np.float64 else 3)
