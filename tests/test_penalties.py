# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pytest

from skgd.penalties import L1, L1L2, L2, NoPenalty, get_penalty
from skgd.testing import check_penalty

PENALTIES = [NoPenalty(), L1(0.3), L2(0.3), L1L2(0.3, 0.5), L1L2(0.3, 0.0), L1L2(2, 1)]


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
def test_penalties_contract(penalty, seed):
    check_penalty(penalty, seed=seed)


@pytest.mark.parametrize("step", [0.5, np.array([0.1, 1.0, 2.0, 0.5])])
def test_penalties_prox_closed_form(step):
    v = np.array([-2.0, 0.05, 1.0, -0.3])
    alpha, rho = 0.4, 0.25
    soft = np.sign(v) * np.maximum(np.abs(v) - step * alpha * rho, 0)
    expected = soft / (1 + step * alpha * (1 - rho))
    np.testing.assert_allclose(L1L2(alpha, rho).prox(v, step), expected, rtol=1e-12)
    np.testing.assert_allclose(
        L1(alpha).prox(v, step),
        np.sign(v) * np.maximum(np.abs(v) - step * alpha, 0),
        rtol=1e-12,
    )
    np.testing.assert_allclose(L2(alpha).prox(v, step), v / (1 + step * alpha))


def test_penalties_moreau_identity():
    # prox_{h}(v) + prox_{h*}(v) = v for step 1; h* of L2(a) is L2(1/a).
    v = np.random.default_rng(0).normal(size=6)
    a = 0.7
    np.testing.assert_allclose(
        L2(a).prox(v, 1.0) + L2(1 / a).prox(v, 1.0), v, rtol=1e-12
    )
    # For L1(a), h* is the indicator of the inf-ball, whose prox is the clip.
    np.testing.assert_allclose(L1(a).prox(v, 1.0) + np.clip(v, -a, a), v, rtol=1e-12)


def test_penalties_values_and_factory():
    w = np.array([1.0, -2.0, 0.0])
    assert float(L1L2(0.5, 0.2).value(w)) == pytest.approx(0.5 * (0.2 * 3 + 0.4 * 5))
    assert float(NoPenalty().value(w)) == 0.0
    assert get_penalty(None) == NoPenalty()
    assert get_penalty("l1", alpha=2.0) == L1(2.0)
    assert get_penalty("l2", alpha=2.0) == L2(2.0)
    assert get_penalty("elasticnet", 2.0, 0.3) == L1L2(2.0, 0.3)
    assert NoPenalty().dual_scale(w) is None
    assert L1(1.0).dual_scale(np.array([0.5, -4.0])) == pytest.approx(0.25)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_l1_conjugate_allows_the_rounding_of_its_scaling(dtype):
    # k v with k = dual_scale(v) lands on the L1 ball up to a few ulps of v's dtype:
    # the conjugate (the ball's indicator) must read it as inside, or the duality
    # gap of a float32 fit is infinite.
    pen = L1(0.01)
    rng = np.random.default_rng(0)
    for _ in range(200):
        v = (rng.normal(size=5) * 0.02).astype(dtype)
        assert pen.conjugate(pen.dual_scale(v) * v) == 0.0
    assert pen.conjugate(np.array([0.0101], dtype=dtype)) == np.inf


def test_penalties_declare_their_elastic_net_weights():
    assert L1L2(2.0, 0.25).elastic_net_weights() == (0.5, 1.5)
    assert L1(0.3).elastic_net_weights() == (0.3, 0.0)
    assert L2(0.3).elastic_net_weights() == (0.0, 0.3)
    assert NoPenalty().elastic_net_weights() == (0.0, 0.0)


def test_penalty_defaults_say_not_provided():
    from skgd.penalties import Penalty

    pen = Penalty()
    assert pen.is_separable
    assert pen.elastic_net_weights() is None
    assert pen.dual_scale(np.ones(3)) is None
    with pytest.raises(NotImplementedError, match="conjugate"):
        pen.conjugate(np.ones(3))
