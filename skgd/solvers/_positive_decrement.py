# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The certificate of smooth fits with the constraint ``w >= 0`` and no penalty.

Without a penalty strength there is no duality gap, and the Newton decrement of
:func:`~skgd.solvers._newton.newton_decrement` is that of the unconstrained
problem: at the constrained optimum, where the gradient is positive on the
coefficients held at 0, it is not 0. :func:`positive_decrement` is the Newton
decrement of the Lagrangian instead, with the multipliers of the active
constraints read off the gradient: it bounds the suboptimality as the
unconstrained decrement does, and is 0 at the optimum.

For the multinomial log loss without a penalty the constraint costs nothing:
the softmax ignores a shift of every class's coefficients by one vector ``z``,
and ``v + z 1^T`` with ``z_j = max(0, -min_k v_jk)`` is ``>= 0`` for any ``v``,
so the infimum over ``w >= 0`` is the unconstrained one and every constrained
optimum is an unconstrained one (the gradient, whose rows sum to 0 over the
classes, vanishes there). The decrement of the unconstrained problem
(:func:`~skgd.solvers._newton.multinomial_step`, the exact softmax Hessian)
bounds ``f(w) - f*`` at every feasible ``w`` as it does without the
constraint, and goes to 0 with the iterates. (A Lagrangian decrement would
not: its multipliers are not orthogonal to the shift, along which the
Lagrangian is unbounded below.) An L2 part breaks the invariance, but then
a duality gap certifies the fit.
"""

import math

from skgd._backend._dense import solve_spd
from skgd._contract import provides
from skgd.losses import MultinomialLogLoss
from skgd.solvers._newton import DECREMENT_MAX_FEATURES, _ridged, multinomial_step
from skgd.solvers._newton_model import ModelSource, to64


def positive_decrement_applies(objective):
    """Return whether :func:`positive_decrement` can certify fits of ``objective``.

    The sample form of a smooth loss of one output with ``hessian``, the
    constraint ``w >= 0`` without an L1 part (an L2 part of any strength,
    0 included), at most :data:`~skgd.solvers._newton.DECREMENT_MAX_FEATURES`
    features, and a backend that builds a weighted Gram matrix; or the
    multinomial log loss with the constraint and no penalty strength
    (:func:`_multinomial_free`).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd import _backend, _objective, losses, penalties
    >>> X = np.eye(3)
    >>> [
    ...     positive_decrement_applies(
    ...         _objective.LinearObjective(
    ...             _backend.get_backend(X), X, np.array([1.0, 0.0, 2.0]),
    ...             losses.PoissonDeviance(), penalties.L2(0.0, positive=p),
    ...         )
    ...     )
    ...     for p in (True, False)
    ... ]
    [True, False]
    """
    loss, backend = objective.loss, objective.backend
    penalty = objective.penalty
    shape = penalty.elastic_net_shape() if penalty.is_separable else None
    return (
        getattr(objective, "form", None) == "samples"
        and shape is not None
        and shape[2]
        and not shape[0]
        and loss.is_smooth
        and (
            objective.n_outputs == 1
            and provides(loss, "hessian")
            and objective.n_features <= DECREMENT_MAX_FEATURES
            or _multinomial_free(objective, shape)
        )
        and (hasattr(backend, "weighted_gram") or hasattr(backend, "sparse_gram"))
    )


def _multinomial_free(objective, shape):
    """Whether the fit is the multinomial log loss's with no penalty strength.

    Where the constraint ``w >= 0`` costs nothing (see the module's docstring),
    at most :data:`~skgd.solvers._newton.DECREMENT_MAX_FEATURES` unknowns
    ``n_classes * (n_features + 1)`` (the exact softmax Hessian's size).
    """
    loss, K = objective.loss, objective.n_outputs
    return (
        isinstance(loss, MultinomialLogLoss)
        and K == loss.n_classes
        and not shape[1]
        and K * (objective.n_features + 1) <= DECREMENT_MAX_FEATURES
    )


def positive_decrement(objective, w, c):
    r"""Return the Lagrangian's half squared Newton decrement at ``(w, c)``, or None.

    For ``min f(w)`` subject to ``w >= 0`` (``f`` the loss plus an L2 part)
    and multipliers ``m >= 0``, weak duality gives ``f* >= min_v f(v) - m.v``
    (the minimum over all ``v``: the Lagrangian ``L(v) = f(v) - m.v``), so

    .. math::

        f(w) - f^* \le L(w) - \min L + m^\top w.

    The multipliers are the gradient's positive part where ``w_j = 0`` (the
    active constraints; 0 elsewhere), so ``m.w = 0`` and ``grad L(w)`` is the
    gradient with those coordinates removed. ``L`` differs from ``f`` by a
    linear term only: it has the same Hessian, and ``L(w) - min L`` is bounded
    by the Newton decrement of ``L`` exactly as the unconstrained
    suboptimality is by :func:`~skgd.solvers._newton.newton_decrement` (equal
    to half its square where the loss is quadratic between ``w`` and ``L``'s
    minimiser, at most its square for a self-concordant function with
    ``lambda <= 0.68``). This returns ``grad L.T H^-1 grad L / 2`` over ``(w,
    c)`` with the exact Hessian ``H`` (the same relative ridge as Newton's
    model). At the optimum the gradient is 0 on the positive coefficients and
    non-negative on those at 0, so it is 0 there: the iterates of ``"gd"``,
    whose projection puts exact zeros on the active set, drive it to 0.

    Parameters
    ----------
    objective : LinearObjective
        The problem (:func:`positive_decrement_applies`).
    w : array of shape (n_features,)
        Coefficients, all ``>= 0``.
    c : float
        The centered model's offset (used only where the intercept is free).

    Returns
    -------
    decrement : float or None
        Half the squared decrement of ``L`` (in the objective's units), ``inf``
        where it is undefined; None where :func:`positive_decrement_applies`
        does not hold.
    """
    if not positive_decrement_applies(objective):
        return None
    if objective.n_outputs > 1:
        # (The multinomial log loss without a penalty: the unconstrained
        # decrement, see the module's docstring.)
        decrement = multinomial_step(objective, w, c)[0]
        return decrement if not math.isnan(decrement) else math.inf
    cxp = objective.coef_xp
    l2 = objective.penalty.elastic_net_shape()[1]
    free_c = objective.intercept_mode == "free"
    c = c if free_c else objective.initial_offset()
    model = ModelSource(objective, free_c).model(w, objective.raw(w, c))
    w64 = to64(cxp, w)
    # The multipliers, from the plain gradient (``gw`` has ``c`` eliminated).
    plain = to64(cxp, model.slope_w) + l2 * w64
    multipliers = cxp.where(w64 == 0, cxp.maximum(plain, 0.0), 0.0)
    grad = model.gw + l2 * w64 - multipliers
    space = (cxp, objective.backend.device)
    lam2 = float(grad @ solve_spd(_ridged(model.H, l2, *space), grad))
    if free_c and model.gc:
        lam2 += model.gc * model.gc / model.s if model.s > 0 else math.inf
    return 0.5 * lam2 if not math.isnan(lam2) else math.inf
