# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Public checks of the Loss and Penalty contracts, for skgd and for user extensions.

Each check raises an AssertionError that says what is wrong; none needs pytest.
"""

import numpy as np


def check_loss(loss, *, y=None, seed=0, n_samples=50, rtol=1e-6):
    """Check a :class:`~skgd.losses.Loss` against its contract.

    The gradient is compared with central finite differences of ``pointwise`` away
    from kinks, ``value`` with the weighted mean of ``pointwise``, and, when the loss
    declares a ``curvature_bound``, the change of the gradient is checked against it.
    A loss of several outputs (``n_outputs > 1``) is checked on ``raw`` of shape
    ``(n_samples, n_outputs)``, one output at a time.

    Parameters
    ----------
    loss : Loss
        The loss to check.
    y : array of shape (n_samples,) or None, default=None
        Targets to check at: class labels for a classification loss (-1 and +1,
        or class indices). None draws standard normal regression targets.
    seed : int, default=0
        Seed of the random test points.
    n_samples : int, default=50
        Number of test points (ignored when ``y`` is given).
    rtol : float, default=1e-6
        Relative tolerance of the finite-difference comparison.

    Examples
    --------
    >>> from skgd.losses import Huber
    >>> from skgd.testing import check_loss
    >>> check_loss(Huber(epsilon=0.5))
    """
    rng = np.random.default_rng(seed)
    if y is None:
        y = rng.normal(size=n_samples)
    y = np.asarray(y, dtype=float)
    n_samples = y.shape[0]
    k = getattr(loss, "n_outputs", 1)
    shape = (n_samples,) if k == 1 else (n_samples, k)
    centre_raw = (y if k == 1 else 0.0) + rng.normal(scale=2.0, size=shape)
    grad = loss.gradient(y, centre_raw)
    assert grad.shape == shape, f"{loss!r}: gradient has shape {grad.shape}"
    centre = loss.pointwise(y, centre_raw)
    assert centre.shape == (n_samples,), f"{loss!r}: pointwise is not per sample"
    h = 1e-6
    for j in range(k):
        bump = np.zeros(shape)
        if k == 1:
            bump[:] = h
        else:
            bump[:, j] = h
        up = loss.pointwise(y, centre_raw + bump)
        down = loss.pointwise(y, centre_raw - bump)
        numeric = (up - down) / (2 * h)
        # Finite differences across a kink are meaningless: compare where the
        # one-sided slopes agree.
        smooth_here = np.isclose(
            (up - centre) / h, (centre - down) / h, rtol=1e-3, atol=1e-5
        )
        np.testing.assert_allclose(
            (grad if k == 1 else grad[:, j])[smooth_here],
            numeric[smooth_here],
            rtol=rtol,
            atol=1e-7,
            err_msg=f"{loss!r}: gradient disagrees with finite differences",
        )
    sw = rng.uniform(0.5, 2.0, size=n_samples)
    np.testing.assert_allclose(
        float(loss.value(y, centre_raw, sw)),
        float(np.sum(sw * centre) / np.sum(sw)),
        rtol=1e-12,
        err_msg=f"{loss!r}: value is not the weighted mean of pointwise",
    )
    if loss.curvature_bound is not None:
        step = rng.normal(size=shape)
        change = loss.gradient(y, centre_raw + step) - grad
        # For several outputs the bound is on the Hessian's largest eigenvalue,
        # so compare the norms of the changes per sample.
        if k > 1:
            change = np.linalg.norm(change, axis=1)
            step = np.linalg.norm(step, axis=1)
        slope = np.abs(change) / np.abs(step)
        assert np.all(slope <= loss.curvature_bound * (1 + 1e-9)), (
            f"{loss!r}: gradient changes faster than curvature_bound="
            f"{loss.curvature_bound}"
        )


def check_penalty(penalty, *, seed=0, n_features=7, rtol=1e-10):
    """Check a :class:`~skgd.penalties.Penalty` against its contract.

    The prox is checked by its optimality: ``prox(v, step)`` must not be improved
    upon by small perturbations of the prox objective, for a scalar and a
    per-coordinate step. The conjugate and ``fenchel_young`` are checked against the
    Fenchel-Young inequality and against each other, and ``dual_scale`` against the
    finiteness of the conjugate.

    Parameters
    ----------
    penalty : Penalty
        The penalty to check.
    seed : int, default=0
        Seed of the random test points.
    n_features : int, default=7
        Length of the test vectors.
    rtol : float, default=1e-10
        Relative tolerance of the identities.

    Examples
    --------
    >>> from skgd.penalties import L1L2
    >>> from skgd.testing import check_penalty
    >>> check_penalty(L1L2(alpha=0.5, l1_ratio=0.3))
    """
    rng = np.random.default_rng(seed)
    v = rng.normal(size=n_features)

    def prox_objective(w, step):
        return float(penalty.value(w)) + float(np.sum((w - v) ** 2 / (2 * step)))

    for step in (0.7, rng.uniform(0.1, 2.0, size=n_features)):
        w = penalty.prox(v, step)
        best = prox_objective(w, step)
        for _ in range(200):
            trial = w + rng.normal(scale=1e-3, size=n_features)
            assert prox_objective(trial, step) >= best - 1e-12, (
                f"{penalty!r}: prox(v, step) is not the minimiser of its objective"
            )
    w = rng.normal(size=n_features)
    scale = penalty.dual_scale(v)
    if scale is None:
        return
    z = scale * v
    conj = penalty.conjugate(z)
    assert np.isfinite(conj), f"{penalty!r}: conjugate infinite after dual_scale"
    fy = penalty.fenchel_young(w, z)
    direct = float(penalty.value(w)) + conj - float(w @ z)
    assert fy >= 0, f"{penalty!r}: negative Fenchel-Young gap"
    np.testing.assert_allclose(
        fy,
        direct,
        rtol=rtol,
        atol=1e-12,
        err_msg=f"{penalty!r}: fenchel_young disagrees with h(w) + h*(v) - w.v",
    )
    # At w = prox(v), v - w / step is a subgradient of h at w (for step = 1), so the
    # Fenchel-Young gap vanishes there.
    w_opt = penalty.prox(v, 1.0)
    sub = v - w_opt
    if np.isfinite(penalty.conjugate(sub)):
        assert penalty.fenchel_young(w_opt, sub) <= 1e-12 * (1 + np.abs(v).sum()), (
            f"{penalty!r}: Fenchel-Young gap not zero at a subgradient"
        )
