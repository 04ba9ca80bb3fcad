# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Step rules and schedules against closed forms and SGDRegressor's formulas."""

import math

import numpy as np
import pytest

from skgd.losses import (
    EpsilonInsensitive,
    Huber,
    SquaredEpsilonInsensitive,
    SquaredError,
)
from skgd.optimizers import SGD, Adam, Momentum, adam, get_schedule, sgd

T = np.arange(1, 2001)


@pytest.mark.parametrize("eta0", [1e-3, 0.5])
def test_schedules_constant_and_adaptive(eta0):
    for name in ("constant", "adaptive"):
        s = get_schedule(name, eta0=eta0, power_t=0.25, alpha=1e-4, loss=SquaredError())
        np.testing.assert_allclose([s(t) for t in T], eta0, rtol=1e-12)
    assert get_schedule(
        "adaptive", eta0=eta0, power_t=0.25, alpha=1e-4, loss=SquaredError()
    ).adaptive


@pytest.mark.parametrize("power_t", [0.25, 0.5, 1.3])
def test_schedules_invscaling_matches_sgdregressor(power_t):
    s = get_schedule("invscaling", eta0=0.02, power_t=power_t, alpha=1, loss=None)
    np.testing.assert_allclose(
        [s(t) for t in T], 0.02 / np.power(T, power_t), rtol=1e-12
    )


@pytest.mark.parametrize(
    "loss",
    [SquaredError(), Huber(0.3), EpsilonInsensitive(0.1), SquaredEpsilonInsensitive(2)],
)
@pytest.mark.parametrize("alpha", [1e-4, 0.01, 3.0])
def test_schedules_optimal_matches_sgdregressor(loss, alpha):
    # sklearn/linear_model/_sgd_fast.pyx.tp: typw = sqrt(1 / sqrt(alpha)),
    # initial_eta0 = typw / max(1, dloss(y=1, p=-typw)), optimal_init =
    # 1 / (initial_eta0 * alpha), eta = 1 / (alpha * (optimal_init + t - 1)).
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    y, p = 1.0, -typw
    if isinstance(loss, SquaredError):
        dloss = p - y
    elif isinstance(loss, Huber):
        dloss = -min(y - p, loss.epsilon)
    elif isinstance(loss, EpsilonInsensitive):
        dloss = -1.0
    else:
        dloss = -2.0 * max(y - p - loss.epsilon, 0.0)
    initial_eta0 = typw / max(1.0, dloss)
    optimal_init = 1.0 / (initial_eta0 * alpha)
    expected = 1.0 / (alpha * (optimal_init + T - 1))
    s = get_schedule("optimal", eta0=0.01, power_t=0.25, alpha=alpha, loss=loss)
    np.testing.assert_allclose([s(t) for t in T], expected, rtol=1e-12)
    assert s(1) == pytest.approx(initial_eta0, rel=1e-12)


def test_sgd_rule_is_identity():
    g = np.array([1.0, -2.0, 0.5])
    rule = sgd()
    assert isinstance(rule, SGD)
    state = rule.init(g)
    d, step, state = rule.update(g, state, 0.3)
    np.testing.assert_array_equal(d, g)
    assert step == 0.3


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_matches_mlp_velocity(nesterov):
    # MLPRegressor's SGD: v = mu v - eta g; move = v (or mu v - eta g, Nesterov).
    rng = np.random.default_rng(0)
    mu, eta = 0.9, 0.05
    rule = sgd(momentum=mu, nesterov=nesterov)
    assert rule == Momentum(momentum=mu, nesterov=nesterov)
    state = rule.init(np.zeros(3))
    v = np.zeros(3)
    for _ in range(20):
        g = rng.normal(size=3)
        v = mu * v - eta * g
        expected = mu * v - eta * g if nesterov else v
        d, step, state = rule.update(g, state, eta)
        np.testing.assert_allclose(-step * d, expected, rtol=1e-12, atol=1e-15)


def test_adam_matches_mlp_formula():
    # sklearn/neural_network/_stochastic_optimizers.py, AdamOptimizer.
    rng = np.random.default_rng(1)
    b1, b2, eps, eta = 0.8, 0.99, 1e-6, 0.01
    rule = adam(b1, b2, eps)
    assert rule == Adam(beta_1=b1, beta_2=b2, eps=eps)
    state = rule.init(np.zeros(4))
    m = np.zeros(4)
    v = np.zeros(4)
    for k in range(1, 30):
        g = rng.normal(size=4)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        lr = eta * np.sqrt(1 - b2**k) / (1 - b1**k)
        d, step, state = rule.update(g, state, eta)
        np.testing.assert_allclose(-step * d, -lr * m / (np.sqrt(v) + eps), rtol=1e-12)
    assert state[0] == 29


def test_adam_scale_is_adam_on_rescaled_parameters():
    # Adam on the problem in units of s (the squared loss of y / s over the
    # parameters theta / s, whose gradients are g / s), mapped back: its moves
    # times s.
    rng = np.random.default_rng(2)
    s, eta = 250.0, 0.01
    scaled, plain = Adam(scale=s), Adam()
    state, state_inner = scaled.init(np.zeros(3)), plain.init(np.zeros(3))
    for _ in range(20):
        g = rng.normal(size=3)
        d, step, state = scaled.update(g, state, eta)
        d_in, step_in, state_inner = plain.update(g / s, state_inner, eta)
        np.testing.assert_allclose(step * d, s * (step_in * d_in), rtol=1e-12)


def test_rules_keep_float32():
    g = np.ones(3, dtype=np.float32)
    for rule in (sgd(), sgd(momentum=0.5), adam()):
        d, step, _ = rule.update(g, rule.init(g), 0.1)
        assert (d * step).dtype == np.float32
