# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Public checks of the Loss and Penalty contracts, for skgd and for user extensions.

:func:`check_loss` and :func:`check_penalty` check the maths of one object, then fit
every solver with it on a tiny problem and check the results; each raises an
AssertionError that says what is wrong, and none needs pytest. :func:`check_support`
is the check the solvers make when a fit starts.
"""

import warnings

import numpy as np

from skgd._contract import SOLVERS, check_support, provides

# Features of the problem on which the working sets are run: enough that the
# full-batch solver chooses them (with fewer, it solves the whole problem at once).
_WIDE = 100


def check_loss(loss, *, y=None, seed=0, n_samples=50, rtol=1e-6, solvers=SOLVERS):
    """Check a :class:`~skgd.losses.Loss` against its contract.

    The gradient is compared with central finite differences of ``pointwise`` away
    from kinks, ``value`` with the weighted mean of ``pointwise``, and, when the loss
    declares a ``curvature_bound``, the change of the gradient is checked against it;
    where it provides ``hessian``, that is compared with central finite differences
    of ``gradient`` away from its kinks.
    A loss of several outputs (``n_outputs > 1``) is checked on ``raw`` of shape
    ``(n_samples, n_outputs)``, one output at a time.

    Then each of ``solvers`` fits the targets with this loss and a ridge penalty
    (a lasso for ``"working_set"``) on random features (see :func:`check_solvers`).

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
    solvers : tuple of str, default=("gd", "sgd", "adam", "working_set", "newton")
        The solvers to fit with. A loss meant for some of them only (a non-smooth
        loss without ``smoothed``: ``("sgd", "adam")``) names those; one that
        :func:`check_support` rejects fails the check. ``"working_set"`` is skipped
        where it does not apply (a non-smooth loss, no conjugate, several outputs),
        and so is ``"newton"`` (a non-smooth loss, several outputs, no ``hessian``).

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
    from skgd.penalties import L1, L2

    if provides(loss, "hessian"):
        _check_hessian(loss, y, centre_raw, rtol)
    if "working_set" in solvers and not (
        loss.is_smooth and loss.has_conjugate and k == 1
    ):
        solvers = tuple(name for name in solvers if name != "working_set")
    if "newton" in solvers and not (
        loss.is_smooth and k == 1 and provides(loss, "hessian")
    ):
        solvers = tuple(name for name in solvers if name != "newton")
    ridge = tuple(name for name in solvers if name != "working_set")
    check_solvers(loss, L2(alpha=0.1), y=y, seed=seed, solvers=ridge)
    if "working_set" in solvers:
        check_solvers(loss, L1(alpha=0.01), y=y, seed=seed, solvers=("working_set",))


def _check_hessian(loss, y, centre_raw, rtol):
    """Check ``loss.hessian`` against central differences of ``gradient``.

    Away from kinks of the gradient only (where its one-sided slopes agree); the
    second derivative must be non-negative (the loss convex) everywhere.
    """
    hess = loss.hessian(y, centre_raw)
    assert hess.shape == centre_raw.shape, f"{loss!r}: hessian has shape {hess.shape}"
    assert np.all(hess >= 0), f"{loss!r}: negative hessian"
    h = 1e-6
    centre = loss.gradient(y, centre_raw)
    up = loss.gradient(y, centre_raw + h)
    down = loss.gradient(y, centre_raw - h)
    smooth_here = np.isclose(
        (up - centre) / h, (centre - down) / h, rtol=1e-3, atol=1e-5
    )
    np.testing.assert_allclose(
        hess[smooth_here],
        ((up - down) / (2 * h))[smooth_here],
        rtol=max(rtol, 1e-5),
        atol=1e-6,
        err_msg=f"{loss!r}: hessian disagrees with finite differences of gradient",
    )


def check_penalty(penalty, *, seed=0, n_features=7, rtol=1e-10, solvers=SOLVERS):
    """Check a :class:`~skgd.penalties.Penalty` against its contract.

    The prox is checked by its optimality: ``prox(v, step)`` must not be improved
    upon by small perturbations of the prox objective, for a scalar and a
    per-coordinate step (a scalar one only, without ``is_separable``). The conjugate
    and ``fenchel_young`` are checked against the Fenchel-Young inequality and
    against each other, and ``dual_scale`` against the finiteness of the conjugate.
    A penalty that declares :meth:`~skgd.penalties.Penalty.elastic_net_weights` is
    checked against the elastic net of those weights (value and prox).

    Then each of ``solvers`` fits a least-squares problem with this penalty (see
    :func:`check_solvers`); ``"working_set"`` runs for a penalty that declares
    an L1 part only.

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
    solvers : tuple of str, default=("gd", "sgd", "adam", "working_set", "newton")
        The solvers to fit with; one that :func:`check_support` rejects fails the
        check.

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

    steps = [0.7, rng.uniform(0.1, 2.0, size=n_features)]
    for step in steps if penalty.is_separable else steps[:1]:
        w = penalty.prox(v, step)
        best = prox_objective(w, step)
        for _ in range(200):
            trial = w + rng.normal(scale=1e-3, size=n_features)
            assert prox_objective(trial, step) >= best - 1e-12, (
                f"{penalty!r}: prox(v, step) is not the minimiser of its objective"
            )
    _check_elastic_net(penalty, v, steps, rtol)
    weights = penalty.elastic_net_weights()
    if "working_set" in solvers and (weights is None or not weights[0] > 0):
        solvers = tuple(name for name in solvers if name != "working_set")
    # (The squared loss never runs Newton steps: "newton" would fit it as "gd".)
    solvers = tuple(name for name in solvers if name != "newton")
    from skgd.losses import SquaredError

    check_solvers(SquaredError(), penalty, seed=seed, solvers=solvers)
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


def _check_elastic_net(penalty, v, steps, rtol):
    """Check ``value`` and ``prox`` against the declared elastic-net weights."""
    weights = penalty.elastic_net_weights()
    if weights is None:
        return
    l1, l2 = weights
    assert min(l1, l2) >= 0, f"{penalty!r}: negative elastic-net weights"
    expected = l1 * np.sum(np.abs(v)) + 0.5 * l2 * np.sum(v * v)
    np.testing.assert_allclose(
        float(penalty.value(v)),
        expected,
        rtol=rtol,
        err_msg=f"{penalty!r}: value disagrees with elastic_net_weights {weights}",
    )
    for step in steps:
        soft = np.sign(v) * np.maximum(np.abs(v) - step * l1, 0.0)
        np.testing.assert_allclose(
            penalty.prox(v, step),
            soft / (1.0 + step * l2),
            rtol=rtol,
            atol=1e-15,
            err_msg=f"{penalty!r}: prox disagrees with elastic_net_weights {weights}",
        )


def check_solvers(loss, penalty, *, y=None, seed=0, solvers=SOLVERS):
    """Fit every solver with ``loss`` and ``penalty`` on a tiny problem; check each.

    Each of ``solvers`` must be supported (:func:`check_support`), and its fit of
    ``y`` on random features must be finite and have a lower objective than the
    zero model. The full-batch solvers (``"gd"``; ``"working_set"``, the same on
    features enough for its working sets) must reach the lowest objective of all,
    and, for a smooth loss, satisfy the optimality condition: ``w`` is a fixed point
    of the proximal gradient step, and the intercept's derivative vanishes.

    Parameters
    ----------
    loss : Loss
        The loss to fit with.
    penalty : Penalty
        The penalty to fit with.
    y : array of shape (n_samples,) or None, default=None
        Targets (class labels for a classification loss); None draws 40 regression
        targets.
    seed : int, default=0
        Seed of the features (and of the stochastic solvers).
    solvers : tuple of str, default=("gd", "sgd", "adam", "working_set", "newton")
        The solvers to run.

    Examples
    --------
    >>> from skgd.losses import Huber
    >>> from skgd.penalties import L1
    >>> from skgd.testing import check_solvers
    >>> check_solvers(Huber(epsilon=1.0), L1(alpha=0.01))
    """
    from skgd import GDRegressor

    rng = np.random.default_rng(seed)
    if y is None:
        y = rng.normal(size=40)
    y = np.asarray(y, dtype=float)
    narrow, wide = (rng.normal(size=(y.shape[0], n)) for n in (3, _WIDE))
    values = {}
    for solver in solvers:
        try:
            check_support(loss, penalty, solver)
        except ValueError as exc:
            raise AssertionError(f"{loss!r} with {penalty!r}: {exc}") from exc
        X = wide if solver == "working_set" else narrow
        full = solver in ("gd", "working_set", "newton")
        est = GDRegressor(
            loss=loss,
            penalty=penalty,
            solver=solver if solver != "working_set" else "gd",
            tol=(1e-12 if loss.is_smooth else 1e-7) if full else 1e-4,
            max_iter=100_000 if full else 200,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the stochastic solvers' convergence
            est.fit(X, y)
        w, b = np.asarray(est.coef_), np.asarray(est.intercept_)
        what = f"{loss!r} with {penalty!r}, solver {solver!r}"
        assert np.all(np.isfinite(np.append(w, b))), f"{what}: non-finite result"
        value, grad_w, grad_b = _objective(loss, penalty, X, y, w, b)
        start, grad0, _ = _objective(loss, penalty, X, y, 0 * w, 0 * b)
        scale = 1e-6 * (1.0 + abs(start))
        assert value <= start + scale, (
            f"{what}: the objective rose from {start:.6g} at zero to {value:.6g}"
        )
        values[solver] = value
        if full and loss.is_smooth:
            size = 1e-4 * max(1.0, float(np.max(np.abs(grad0))))
            residual = w - np.asarray(penalty.prox(w - grad_w, 1.0))
            assert np.max(np.abs(residual), initial=0.0) <= size, (
                f"{what}: w is not a fixed point of the proximal gradient step "
                f"(residual {np.max(np.abs(residual)):.3g})"
            )
            assert np.max(np.abs(grad_b)) <= size, (
                f"{what}: the intercept's derivative {grad_b} is not zero"
            )
    if "gd" in values:
        best = min(values[name] for name in values if name != "working_set")
        assert values["gd"] <= best + scale, (
            f"{loss!r} with {penalty!r}: solver 'gd' ends at objective "
            f"{values['gd']:.10g}, above another solver's {best:.10g}"
        )


def _objective(loss, penalty, X, y, w, b):
    """Return the objective at ``(w, b)`` and its derivatives in ``w`` and ``b``."""
    raw = X @ w + b
    g = np.asarray(loss.gradient(y, raw)) / y.shape[0]
    value = float(np.mean(loss.pointwise(y, raw))) + float(penalty.value(w))
    return value, X.T @ g, np.sum(g, axis=0)
