# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""What a ConvergenceWarning of the full-batch solver says about its likely cause.

When a fit runs out of ``max_iter``, :func:`convergence_advice` reads the problem
(the columns' scales, the penalty, the loss, ``alpha`` against the data's
``alpha_max``) and returns one short sentence naming the most likely cause, with its
numbers, and the fix. It runs only when a warning is due, so the one pass over the
data that ``alpha_max`` takes costs nothing to a fit that converges.
"""

import math

# Columns whose standard deviations differ by more than this factor count as
# unscaled: the penalty then weighs their coefficients very differently.
_SCALE_RATIO = 100.0
# An alpha below this share of alpha_max barely conditions the problem.
_WEAK_ALPHA = 1e-3
# The non-smooth losses' names, and the smooth loss to suggest in their place.
_SMOOTH_ALTERNATIVE = {
    "Hinge": ("hinge", "modified_huber"),
    "EpsilonInsensitive": ("epsilon_insensitive", "huber"),
}


def measure_name(objective, solver="gd"):
    """Return what the full-batch solver's stopping measure is, in words.

    Parameters
    ----------
    objective : LinearObjective
        The problem.
    solver : {"gd", "newton", "lbfgs"}, default="gd"
        The solver that ran (without a duality gap, Newton stops on its decrement).

    Returns
    -------
    name : str
        ``"relative duality gap"`` where the problem has a duality gap (a penalty
        with a strength), else ``"relative Newton decrement"`` for Newton and
        ``"proximal-gradient measure"`` for the others.

    Examples
    --------
    Only ``objective.has_duality_gap`` is read:

    >>> from types import SimpleNamespace
    >>> measure_name(SimpleNamespace(has_duality_gap=False))
    'proximal-gradient measure'
    """
    if objective.has_duality_gap or solver == "interior-point":
        return "relative duality gap"
    if solver == "newton":
        return "relative Newton decrement"
    return "proximal-gradient measure"


def convergence_advice(objective, alpha):
    """Return the likely cause of a fit that used up ``max_iter``, and its fix.

    The causes, in the order they are checked: features on very different scales,
    no penalty, a non-smooth loss, and an ``alpha`` far below the data's
    ``alpha_max`` (the smallest L1 strength that zeroes every coefficient). The
    first that applies is named; otherwise the advice is the generic one.

    Parameters
    ----------
    objective : LinearObjective
        The problem that did not converge.
    alpha : float
        The estimator's ``alpha`` (0 without a penalty).

    Returns
    -------
    advice : str
        One or two sentences, ending with a period.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd._backend import get_backend
    >>> from skgd._objective import LinearObjective
    >>> from skgd.losses import get_loss
    >>> from skgd.penalties import get_penalty
    >>> X = np.array([[1.0, 1000.0], [2.0, 3000.0], [3.0, 2000.0], [5.0, 0.0]])
    >>> y = np.arange(4.0)
    >>> problem = LinearObjective(get_backend(X), X, y, get_loss("squared_error"),
    ...                           get_penalty("l2"))
    >>> print(convergence_advice(problem, 1e-4))  # doctest: +NORMALIZE_WHITESPACE
    The features' scales differ by a factor of 7.6e+02 (standard deviations 1.5 to
    1.1e+03): standardize them (sklearn.preprocessing.StandardScaler), or raise
    max_iter.
    """
    for check in (_unscaled, _no_penalty, _not_smooth, _weak_alpha):
        advice = check(objective, alpha)
        if advice:
            return advice
    return "Increase max_iter, or loosen tol."


def _unscaled(objective, alpha):
    """Advice when the columns' standard deviations differ by a large factor."""
    moments, cxp = objective.moments(), objective.coef_xp
    sq = moments.sq[moments.active]
    if sq.shape[0] < 2:
        return None
    lo, hi = objective.backend.to_floats(cxp.min(sq), cxp.max(sq))
    lo, hi = math.sqrt(lo), math.sqrt(hi)
    if not hi > _SCALE_RATIO * lo:
        return None
    return (
        f"The features' scales differ by a factor of {hi / lo:.1e} (standard "
        f"deviations {lo:.2g} to {hi:.2g}): standardize them "
        "(sklearn.preprocessing.StandardScaler), or raise max_iter."
    )


def _no_penalty(objective, alpha):
    """Advice for a problem without a penalty (no strong convexity)."""
    if objective.has_duality_gap or alpha > 0:
        return None
    return (
        "Without a penalty the optimum may be far away or not unique (separable "
        "classes, collinear features): add a small one (penalty='l2', alpha > 0), "
        "or raise max_iter."
    )


def _not_smooth(objective, alpha):
    """Advice for a non-smooth loss, reached through smoothings of it."""
    loss = objective.loss
    if loss.is_smooth:
        return None
    name, smooth = _SMOOTH_ALTERNATIVE.get(type(loss).__name__, (None, None))
    which = "The loss" if name is None else f"The {name} loss"
    smooth = "a smooth loss" if smooth is None else f"loss={smooth!r}"
    return (
        f"{which} is not smooth and needs more iterations: raise max_iter, or use "
        f"a larger alpha or {smooth}."
    )


def _weak_alpha(objective, alpha):
    """Advice when ``alpha`` is far below the data's ``alpha_max``."""
    alpha_max = _alpha_max(objective)
    if alpha_max is None or not alpha < _WEAK_ALPHA * alpha_max:
        return None
    return (
        f"alpha={alpha:g} is {alpha / alpha_max:.1e} times alpha_max={alpha_max:.3g} "
        "(where L1 zeroes every coefficient), too weak to condition the problem: "
        "raise alpha (GDRegressorCV chooses one by cross-validation) or max_iter."
    )


def _alpha_max(objective):
    """Return ``max_j |grad_j|`` at zero coefficients (one pass), or None."""
    zero = objective.coef_xp.zeros(
        objective.coef_shape, dtype=objective.dtype, device=objective.backend.device
    )
    grad = objective.gradient(objective.raw(zero, objective.initial_offset()))[1]
    cxp = objective.coef_xp
    value = objective.backend.to_float(cxp.max(cxp.abs(grad)))
    return value if math.isfinite(value) and value > 0 else None
