# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Duality gaps of the linear model: the quadratic gap and the general one.

Every solver's stopping measure is built here:

- :func:`quadratic_gap`: the squared loss with its closed-form offset, as a sum of
  non-negative terms free of cancellation (the sample form, the Gram form and the
  Gram elastic-net solver of :mod:`skgd.solvers._gram_enet` all call it);
- :func:`conjugate_gap`: any loss with a conjugate, the primal value less the dual
  value (the sample form's :func:`sample_gap` and the one-pass gaps of
  :mod:`skgd._one_pass` call it);
- :func:`sample_gap` builds the dual point of the sample form from the gradient,
  and :func:`dual_scaling` scales it into the dual domain;
- :func:`unpenalized_gap` is the gap with features of penalty weight 0, whose
  dual constraint ``X_j.T theta = 0`` is met by projecting the dual point (in
  the sample form, or from the Gram matrix alone in the Gram form), or for the
  log losses by correcting it with a Newton step on those columns, and
  :func:`final_gap` evaluates it at a solver's result;
- :func:`fenchel_young_applies`: the Poisson, Gamma and Tweedie gaps of data of
  a precision below float64 are sums of non-negative Fenchel-Young terms,
  summed in float64 (:func:`_fenchel_young_gap`), not a difference of two sums
  that rounds at or below 0 near the optimum;
- :func:`numerical_gap_at` is :func:`sample_gap` for a loss whose conjugate is
  numerical (the Tweedie loss, ``1 < p < 2``), which certifies a fit once its
  iterations have stopped;
- :func:`rounding_bound` bounds the rounding of the computed ``X_c.T theta``;
  :func:`toward_subgradient` and :func:`toward_ball` put the coordinates of the
  dual point within that bound of feasibility on it. A gap stuck at the rounding
  level of the gradient (an L1 strength below it, an L2 strength of 1e-300, a
  column of scale 1e50) is then as certified as floating point allows, not a
  failure to converge; a coordinate farther from feasibility is left as it is.
"""

import math

from skgd._backend._dense import psd_solve
from skgd._backend._namespace import array_namespace, on_support
from skgd._contract import provides
from skgd.losses import LogLoss, MultinomialLogLoss
from skgd.losses._tweedie_conjugate import _wide

# How far a computed ``(X_c.T theta)_j`` may be from the exact value, in units of
# ``eps sqrt(m_j) S`` (see rounding_bound): a margin for the rounding of w itself
# and of the intercept, and for losses whose derivative exceeds 1.
ROUNDING = 4.0

# The most features of penalty weight 0 whose gap final_gap computes: one pass
# over X each (their Gram columns) is then at most a fit's worth of passes.
MAX_UNPENALIZED = 64


def quadratic_gap(k, fenchel_young, residual_sq):
    r"""Return the duality gap of the squared loss with its closed-form offset.

    With the dual point ``k v`` (``v = -grad_w``, ``k`` the penalty's scaling into
    its dual domain) the gap is

    .. math::

        \frac{(1 - k)^2}{2} \sum_i u_i r_i^2 + h(w) + h^*(k v) - k\, w^\top v,

    a sum of non-negative terms computed without the cancellation of subtracting
    two objective values, so it stays accurate far below their rounding level. The
    only term computed by difference is the squared residual norm, which enters
    multiplied by ``(1 - k)**2``: zero whenever the dual point needs no scaling,
    and then it is not computed.

    Parameters
    ----------
    k : float
        The scaling of the dual point, in ``(0, 1]``.
    fenchel_young : float
        ``h(w) + h*(k v) - k w.v`` (the penalty's ``fenchel_young``).
    residual_sq : callable
        Returns ``sum_i u_i r_i**2`` (times the loss curvature) when called.

    Returns
    -------
    gap : float
        The gap (``inf`` if not finite).

    Examples
    --------
    >>> quadratic_gap(1.0, 0.25, lambda: 1.0)
    0.25
    >>> quadratic_gap(0.5, 0.25, lambda: 1.0)
    0.375
    """
    gap = fenchel_young
    if k != 1.0:
        gap = 0.5 * (1.0 - k) ** 2 * residual_sq() + fenchel_young
    return gap if math.isfinite(gap) else math.inf


def conjugate_gap(value, loss_dual, penalty, k, v):
    """Return the duality gap of a primal value and a scaled dual point.

    Parameters
    ----------
    value : float
        The objective at any ``(w, c)``.
    loss_dual : float
        The loss's dual value at ``k * theta``.
    penalty : Penalty
        The penalty.
    k : float
        The scaling of the dual point.
    v : array of shape (n_features,) or (n_features, K)
        ``X_c.T theta``.

    Returns
    -------
    gap : float
        An upper bound on ``value - P*`` (``inf`` if not finite).
    """
    gap = value - (loss_dual - penalty.conjugate(k * v))
    return gap if math.isfinite(gap) else math.inf


def sample_gap(objective, w, raw, grad_w, raw_grad=None, value=None):
    r"""Return the duality gap of the sample form at ``w``.

    The dual point is built from the gradient: ``theta = -raw_grad`` (the derivative
    of the mean loss in the predictions, possibly of a smoothing of the objective's
    loss), made feasible by (1) subtracting ``u sum(theta)`` when there is an
    intercept, which needs ``sum(theta) = 0``; (2) scaling into the loss's box; (3)
    the penalty's scaling. Steps (1)-(2) leave ``X_c.T theta = -grad_w`` unchanged or
    scaled, since ``X_c.T u = 0``; so the gap costs no pass over X. For the squared
    loss with its closed-form offset it is :func:`quadratic_gap`; for a loss whose
    dual point the loss balances (classification) see :func:`_balanced_gap`.

    Parameters
    ----------
    objective : LinearObjective
        The problem.
    w : array of shape (n_features,)
        Coefficients.
    raw : array of shape (n_samples,)
        ``objective.raw(w, c)``.
    grad_w : array of shape (n_features,)
        ``objective.backprop(raw_grad)[0]``.
    raw_grad : array of shape (n_samples,) or None
        The gradient in the predictions that built ``grad_w``; None means
        ``objective.raw_gradient(raw)``.
    value : float or None
        The objective at ``w``, where the caller has it (a line search's last
        value: a pass saved); None computes it.

    Returns
    -------
    gap : float
        The gap (``inf`` if no feasible dual point was found).
    """
    loss, penalty, u = objective.loss, objective.penalty, objective.u
    if loss.balanced_dual:
        return _balanced_gap(objective, w, raw, grad_w, raw_grad, value)
    xp = array_namespace(raw)
    to_float = objective.backend.to_float
    v = -grad_w
    if loss.is_quadratic and raw_grad is None and objective.intercept_mode != "free":
        v = toward_subgradient(objective, w, v)
        r = objective.y - raw
        k = penalty.dual_scale(v)
        fy = penalty.fenchel_young(w, k * v)
        return quadratic_gap(k, fy, lambda: to_float((u * r) @ r))
    if raw_grad is None:
        raw_grad = objective.raw_gradient(raw)
    theta = -raw_grad
    if objective.fit_intercept:
        theta = theta - u * xp.sum(theta)
    largest = 0.0
    if loss.dual_box() is not None:
        ratio = xp.where(u > 0, xp.abs(theta), 0.0 * u) / xp.where(
            u > 0, u, xp.ones_like(u)
        )
        largest = to_float(xp.max(ratio))
    if not fenchel_young_applies(objective):
        # (The Fenchel-Young form's w.v term needs the computed v itself: a
        # coordinate moved onto the ball there would drop its term.)
        v = toward_ball(objective, v)
    k = dual_scaling(objective, v, largest)
    return _gap_at(objective, w, raw, theta, k, v, value)


def _gap_at(objective, w, raw, theta, k, v, value=None):
    """Return :func:`conjugate_gap` at ``w`` for the dual point ``k * theta``.

    Where :func:`fenchel_young_applies`, the same gap as a sum of non-negative
    terms (:func:`_fenchel_young_gap`).
    """
    if fenchel_young_applies(objective):
        return _fenchel_young_gap(objective, w, raw, theta, k, v)
    xp = objective.xp
    if value is not None:
        loss_dual = objective.backend.to_float(
            objective.loss.dual_value(objective.y, k * theta, objective.u)
        )
        return conjugate_gap(value, loss_dual, objective.penalty, k, v)
    # The loss's dual part and the primal loss, in one synchronisation.
    loss_dual, primal_loss = objective.backend.to_floats(
        objective.loss.dual_value(objective.y, k * theta, objective.u),
        xp.sum(objective.u * objective.loss.pointwise(objective.y, raw)),
    )
    value = primal_loss + objective.penalty_value(w)
    return conjugate_gap(value, loss_dual, objective.penalty, k, v)


def fenchel_young_applies(objective):
    """Return whether the gaps of ``objective`` are sums of Fenchel-Young terms.

    The sample form of one output of a loss with a
    ``fenchel_young_sum`` method (Poisson, Gamma, Tweedie with ``1 < p < 2``)
    and a conjugate, on data of a precision below float64, centered or without
    an intercept. There the primal and dual sums, each rounded by several
    ``eps`` times terms far larger than the gap, came out at or below each
    other near the optimum (a gap of 0, or below it, where the excess in
    float64 was above 0); the gap of :func:`_fenchel_young_gap` has no such
    cancellation. In float64 the rounding of the difference is far below any
    ``tol``: those gaps are left as they are.
    """
    loss = objective.loss
    return bool(
        getattr(objective, "form", None) == "samples"
        and objective.n_outputs == 1
        and provides(loss, "fenchel_young_sum")
        and (loss.has_conjugate or loss.has_numerical_conjugate)
        and objective.dtype != objective.coef_xp.float64
        and (objective.centered or not objective.fit_intercept)
    )


def _fenchel_young_gap(objective, w, raw, theta, k, v):
    r"""Return the duality gap at ``w`` for ``k * theta`` as non-negative terms.

    With ``s_i = -k theta_i / u_i``, ``z = raw = X_c w + c`` and ``v = X_c.T
    theta``, ``sum_i u_i z_i s_i = -k (w.v + c sum(theta))``, and ``sum(theta)
    = 0`` with an intercept (``c = 0`` without), so the gap
    ``P(w) - D(k theta)`` is

    .. math::

        \sum_i u_i \left(L_i(z_i) + L_i^*(s_i) - z_i s_i\right)
        + h(w) + h^*(k v) - k\, w^\top v,

    the loss's ``fenchel_young_sum`` (in float64) and the penalty's
    ``fenchel_young``: each term 0 where its pair is optimal, so near the
    optimum the gap is made of small terms, not of the difference of two sums
    of large ones (as :func:`quadratic_gap` for the squared loss). ``theta``
    is centered again in float64 first: its float32 centering leaves a
    ``sum(theta)`` of its rounding, which the identity above would carry
    times ``c``; ``X_c.T`` of the change is 0, so ``v`` stands.
    """
    xp, u = objective.xp, objective.u
    theta = _wide(theta, xp)
    if objective.fit_intercept:
        theta = theta - _wide(u, xp) * xp.sum(theta)
    loss_part = objective.backend.to_float(
        objective.loss.fenchel_young_sum(objective.y, raw, k * theta, u)
    )
    gap = loss_part + objective.penalty.fenchel_young(w, k * v)
    return gap if math.isfinite(gap) else math.inf


def _balanced_gap(objective, w, raw, grad_w, raw_grad, value=None):
    """Return the duality gap of a classification loss (``loss.balanced_dual``).

    The dual point ``theta = -raw_grad`` is feasible for these losses' conjugates
    (a one-sided box ``0 <= y_i theta_i <= m u_i``, or rows of a simplex for the
    multinomial loss), but subtracting ``u sum(theta)`` for the intercept may leave
    that set: :meth:`Loss.balance_dual` reweights it instead. Its ``X_c.T`` costs
    one pass over X for a loss with :meth:`Loss.balance_parts` (the fused iteration
    of :func:`skgd._one_pass.pass_terms` gets it from the gradient's pass), none for
    an anchor alone, whose ``X_c.T`` is computed once per fit (:func:`anchor`).
    """
    if raw_grad is None:
        raw_grad = objective.raw_gradient(raw)
    theta = -raw_grad
    v = -grad_w
    if objective.fit_intercept:
        theta, (t, b, a, _) = objective.loss.balance_dual(
            objective.y, theta, objective.u
        )
        if b:
            v = objective.backprop(theta)[0]  # X_c.T of the parts: one pass
        else:
            t, a = objective.backend.to_floats(t, a)
            product = anchor(objective)[0]  # None: the loss mixes in no anchor
            v = (1.0 - t) * v + (0.0 if product is None else a * product)
    v = toward_ball(objective, v)
    k = objective.penalty.dual_scale(v)
    if k is None:
        return math.inf
    return _gap_at(objective, w, raw, theta, k, v, value)


def anchor(objective):
    """Return ``X_c.T`` of the loss's balance anchor and the anchor's sum.

    One pass over X per fit (shared through the column statistics by the objectives
    of a fit's smoothing stages, which have the same targets).
    """
    # The anchor depends on the targets, the weights (shared by the stats) and the
    # loss's anchor method (and its number of outputs).
    loss, y = objective.loss, objective.y
    anchor_of = (type(loss).balance_anchor, objective.n_outputs)
    products = objective.stats.products
    cache = products.anchor
    if cache is None or cache[0] is not y or cache[1] != anchor_of:
        point = loss.balance_anchor(y, objective.u)
        product = total = None
        if point is not None:
            product, total = objective.backend.rmatvec_sum(objective.X, point)
            product = objective.chain(product, total)[0]
        cache = (y, anchor_of, product, total)
        products.anchor = cache
    return cache[2], cache[3]


def dual_scaling(objective, v, largest):
    """Return the factor ``k`` that makes ``k * theta`` dual feasible.

    ``largest`` is ``max_i |theta_i| / u_i`` of the centered ``theta`` (needed only
    for a loss with a dual box) and ``v = X_c.T theta``: ``k`` first scales
    ``theta`` into the box, then ``k * v`` into the penalty's dual ball.
    """
    k = 1.0
    box = objective.loss.dual_box()
    if box is not None and largest > box:
        k = box / largest
    return k * objective.penalty.dual_scale(k * v)


def rounding_bound(objective):
    r"""Return a bound on the rounding of each computed ``(X_c.T theta)_j``, or None.

    A coordinate of ``v = X_c.T theta`` is a weighted mean of ``n`` products,
    whose magnitudes average at most :math:`\sqrt{m_j} \|\theta / u\|_u`
    (Cauchy-Schwarz, with :math:`m_j` the column's uncentered second moment): its
    summation rounds by at most about ``log2(n) eps`` times that (pairwise and
    blocked sums). ``theta`` is itself rounded: for a regression loss it is a
    function of ``y - raw``, which rounds by ``eps (|y_i| + |raw_i|)``, about
    ``2 eps |y_i|`` near a fit. The bound is ``ROUNDING eps sqrt(m_j) S`` with ``S
    = log2(n) B + 2 ||y||_u`` (``B`` bounds ``||theta / u||_u``: the loss's dual
    box, ``||y - y_offset||_u`` for the squared loss; for the classification
    losses ``B = 1`` and the labels' term is 1). The exact ``v`` may lie anywhere
    within it of the computed one: no computation in this precision tells the
    dual points within it apart. One pass over ``y`` per objective (cached); None
    for an uncentered objective (no column moments) or a penalty outside the
    elastic-net family, whose gaps are left as they are.
    """
    if objective.penalty.elastic_net_weights() is None:
        return None
    return _rounding(objective)[0]


def _rounding(objective):
    """Return ``(bound, unit)``: :func:`rounding_bound`'s bound and ``ROUNDING eps S``.

    For any penalty: ``unit`` bounds the rounding of a sum ``sum_i theta_i`` (a
    column of ones, ``m = 1``). Both None for an uncentered objective. Cached
    per objective.
    """
    cached = objective.__dict__.get("_rounding_bound")
    if cached is not None:
        return cached
    bound = unit = None
    if objective.centered:
        xp, cxp, to_float = objective.xp, objective.coef_xp, objective.backend.to_float
        u, y, loss = objective.u, objective.y, objective.loss
        if loss.balanced_dual:
            big, labels = 1.0, 1.0
        else:
            yy = u @ (y * y) if y.ndim == 1 else xp.sum(u[:, None] * y * y)
            labels = 2.0 * math.sqrt(to_float(yy))
            big = loss.dual_box()
            if loss.is_quadratic or big is None:
                offset = cxp.max(cxp.abs(cxp.asarray(objective.y_offset)))
                big = 0.5 * labels + float(offset)
        moments = objective.moments()
        m2 = moments.sq + objective.x_mean * objective.x_mean
        eps = float(cxp.finfo(objective.dtype).eps)
        scale = max(1.0, math.log2(objective.n_samples)) * big + labels
        unit = ROUNDING * eps * scale
        bound = objective.per_feature_shape(unit * cxp.sqrt(m2))
    cached = objective.__dict__["_rounding_bound"] = (bound, unit)
    return cached


def toward_subgradient(objective, w, v):
    """Return ``v`` with the coordinates within rounding of ``dh(w)`` put on it.

    A coordinate within :func:`rounding_bound` of the penalty's subdifferential
    at ``w`` is replaced by its nearest point there, the others are left as they
    are: the dual point of the Fenchel-Young form (:func:`quadratic_gap`) that
    the computed ``X_c.T theta`` cannot be told from. For the elastic net the
    nearest subgradient is ``l2 w + l1 sign(w)`` where ``w != 0`` and ``v``
    clipped to ``[-l1, l1]`` where ``w == 0``.
    """
    bound = rounding_bound(objective)
    if bound is None:
        return v
    return nearest_subgradient(objective.penalty, w, v, bound)


def nearest_subgradient(penalty, w, v, bound):
    """Return ``v`` with the coordinates within ``bound`` of ``dh(w)`` put on it.

    (See :func:`toward_subgradient`; ``penalty`` of the elastic-net family, with
    the sign constraint ``w >= 0`` or not: where ``w == 0`` its subdifferential
    is then ``(-inf, l1]``. Other penalties get ``v`` back as it is.)
    """
    shape = penalty.elastic_net_shape()
    if shape is None:
        return v
    l1, l2, positive = shape
    xp = array_namespace(w, v)
    # (minimum of maximum: array-api-compat's clip costs more than the rest.)
    at_zero = xp.minimum(v, l1) if positive else xp.minimum(xp.maximum(v, -l1), l1)
    # (On numpy vectors the support's few coordinates alone: see on_support.)
    target = on_support(xp, w, lambda ws: l2 * ws + l1 * xp.sign(ws), at_zero)
    return xp.where(xp.abs(v - target) <= bound, target, v)


def gram_rounding_bound(d, yy, eps):
    """Return :func:`rounding_bound` for a problem given by its Gram matrix alone.

    ``d`` is the Gram matrix's diagonal (the columns' centered second moments) and
    ``yy`` the targets' centered weighted sum of squares; the sample count is not
    known there, so ``S`` is ``2 sqrt(d.size + 1) sqrt(yy)``: the rounding of
    ``q - G w``, a sum of ``n_features + 1`` terms of that size.
    """
    xp = array_namespace(d)
    scale = 2.0 * math.sqrt(d.shape[0] + 1.0) * math.sqrt(max(float(yy), 0.0))
    return ROUNDING * eps * scale * xp.sqrt(d)


def toward_ball(objective, v):
    """Return ``v`` with the coordinates within rounding of ``[-l1, l1]`` put in it.

    A coordinate within :func:`rounding_bound` of the ball where the elastic
    net's conjugate vanishes is clipped into it, the others are left as they are:
    the dual point of the conjugate form (:func:`conjugate_gap`, whose loss part
    does not depend on ``v``) that the computed ``X_c.T theta`` cannot be told
    from, with the smallest conjugate.
    """
    bound = rounding_bound(objective)
    if bound is None:
        return v
    l1 = objective.penalty.elastic_net_weights()[0]
    xp = array_namespace(v)
    target = xp.clip(v, -l1, l1)
    return xp.where(xp.abs(v - target) <= bound, target, v)


def final_gap(objective, coef, intercept):
    """Return the duality gap to report at a solver's result, or None.

    :func:`unpenalized_gap` where :func:`unpenalized_gap_applies` holds: the
    full-batch solver stops such fits on this gap (:func:`unpenalized_gap_at`);
    this evaluates it at what a solver returns, one more pass over X (and the
    Gram columns of the unpenalized features, once per objective). Where
    :func:`fenchel_young_applies` (and the penalty has a dual scaling), the gap
    of :func:`sample_gap` at the result, one more pass: a sum of non-negative
    terms, where a solver's own measure may be the difference of two sums
    rounded in the data's precision. None elsewhere: the solver's measure is
    reported.
    """
    c = objective.offset(coef, intercept)
    if unpenalized_gap_applies(objective):
        return unpenalized_gap_at(objective, coef, c)
    if fenchel_young_applies(objective) and has_dual_scale(objective):
        return numerical_gap_at(objective, coef, c)
    return None


def unpenalized_gap_applies(objective):
    """Return whether :func:`unpenalized_gap` bounds fits of ``objective``.

    Not where there is no feature of penalty weight 0 (or, in the sample form,
    more than :data:`MAX_UNPENALIZED`, whose Gram columns would cost too much;
    the Gram form has them all), several outputs (but the multinomial log
    loss), a loss with no conjugate (closed-form, or numerical: the Tweedie
    loss with ``1 < p < 2``) or whose balanced dual point has no
    correction here (:func:`_balanced_applies`: the hinge, quantile), an
    uncentered objective, no penalty strength. Where it does not, such fits
    stop on the proximal-gradient measure (the penalty's ``dual_scale`` is
    None) and are not reported converged (see :func:`~skgd.solvers._gd.solve_gd`).
    """
    loss, penalty = objective.loss, objective.penalty
    free = getattr(penalty, "unpenalized_features", tuple)()
    form = getattr(objective, "form", None)
    return bool(
        (form == "gram" or form == "samples" and len(free) <= MAX_UNPENALIZED)
        and free
        and (penalty.l1 or penalty.l2)
        and objective.centered
        and (loss.is_quadratic or loss.has_conjugate or loss.has_numerical_conjugate)
        and (
            _balanced_applies(objective)
            if loss.balanced_dual
            else objective.n_outputs == 1
        )
    )


def numerical_gap_applies(objective):
    """Return whether :func:`numerical_gap_at` certifies fits of ``objective``.

    The sample form of a loss of one output whose conjugate is numerical
    (``has_numerical_conjugate``: the Tweedie loss with ``1 < p < 2``) and a
    penalty with a dual scaling (a strength, no feature of weight 0: those
    are :func:`unpenalized_gap_applies`'s). Such fits have no gap in their
    iterations (``has_duality_gap`` is false: the conjugate costs a Newton
    solve per sample), so they stop on the proximal-gradient measure, which
    bounds nothing, and are then certified by this gap.
    """
    loss = objective.loss
    if not (
        getattr(objective, "form", None) == "samples"
        and loss.has_numerical_conjugate
        and objective.n_outputs == 1
    ):
        return False
    return has_dual_scale(objective)


def has_dual_scale(objective):
    """Return whether the penalty scales dual points into its domain.

    A strength, and no feature of penalty weight 0 (those are
    :func:`unpenalized_gap_applies`'s): without, :func:`sample_gap` has no
    dual point.
    """
    cxp, dev = objective.coef_xp, objective.backend.device
    zero = cxp.zeros(objective.n_features, dtype=objective.dtype, device=dev)
    return objective.penalty.dual_scale(zero) is not None


def numerical_gap_at(objective, w, c):
    """Return :func:`sample_gap` at ``(w, c)`` (one pass for the gradient).

    With a numerical conjugate (:func:`numerical_gap_applies`) it is a safe
    upper bound on the suboptimality: the conjugate is bounded from above
    (:func:`~skgd.losses._tweedie_conjugate.conjugate_upper`), so the gap is
    never below the exact gap of the same dual point.
    """
    raw = objective.raw(w, c)
    raw_grad, grad_w, _ = objective.gradient(raw)
    return sample_gap(objective, w, raw, grad_w, raw_grad)


def unpenalized_gap_at(objective, w, c):
    """Return :func:`unpenalized_gap` at ``(w, c)`` (one pass for the gradient)."""
    raw = objective.raw(w, c)
    raw_grad, grad_w, _ = objective.gradient(raw)
    return unpenalized_gap(objective, w, raw, grad_w, raw_grad)


def box_gap_applies(objective):
    """Return whether :func:`box_gap` certifies fits of ``objective``.

    No penalty at all (no strength, constraint or weights), one output, a
    centered objective, a loss with :meth:`~skgd.losses.Loss.quadratic_dual_box`
    and :meth:`~skgd.losses.Loss.hessian`, at most :data:`MAX_UNPENALIZED`
    features and a backend that builds a weighted Gram matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd import _backend, _objective, losses, penalties
    >>> X, labels = np.eye(3), np.array([1.0, -1.0, 1.0])
    >>> def problem(penalty):
    ...     backend, loss = _backend.get_backend(X), losses.ModifiedHuber()
    ...     return _objective.LinearObjective(backend, X, labels, loss, penalty)
    >>> [box_gap_applies(problem(p)) for p in (penalties.NoPenalty(), penalties.L2())]
    [True, False]
    """
    loss, backend = objective.loss, objective.backend
    return (
        objective.n_outputs == 1
        and objective.centered
        and objective.penalty.elastic_net_shape() == (0.0, 0.0, False)
        and provides(loss, "quadratic_dual_box")
        and provides(loss, "hessian")
        and objective.n_features <= MAX_UNPENALIZED
        and (hasattr(backend, "weighted_gram") or hasattr(backend, "sparse_gram"))
    )


def box_gap(objective, w, c):
    r"""Return the duality gap of a penalty-free fit whose loss has a quadratic box.

    Without a penalty the dual point must meet ``X_c.T theta = 0`` (and
    ``sum(theta) = 0`` with an intercept) exactly, besides the box of the loss's
    conjugate (:meth:`~skgd.losses.Loss.quadratic_dual_box`), on which the
    conjugate is quadratic. The gradient's point ``theta = -u L'(raw)`` is in the
    box; it is corrected on the samples ``Q`` strictly inside it alone (the
    others sit on its faces and stay): with ``W = u h`` on ``Q`` (``h`` of
    :meth:`~skgd.losses.Loss.hessian`, 0 elsewhere) and ``Z = [X_c, 1]``,

    .. math::

        (Z^\top W Z)\, a = Z^\top \theta, \qquad \theta' = \theta - W Z a,

    the gradient's dual point at the generalized Newton point ``(w, c) + a``:
    ``Z.T theta' = 0``. Where ``theta'`` stays in the box it is dual feasible and
    ``P(w, c) - D(theta')`` bounds the suboptimality; it is 0 once the samples'
    pieces are those of the optimum, which a Newton iteration on the
    generalized Hessian reaches in finitely many steps. ``Z.T theta'`` is
    computed by a pass over X and must be within :func:`rounding_bound` of 0
    (a singular ``Z.T W Z`` whose range misses ``Z.T theta`` leaves more). Four
    passes over X, one of them the ``p x p`` weighted Gram matrix
    (:func:`_interior_correction`).

    Parameters
    ----------
    objective : LinearObjective
        The problem (:func:`box_gap_applies`).
    w : array of shape (n_features,)
        Coefficients.
    c : float
        The centered model's offset.

    Returns
    -------
    gap : float
        An upper bound on ``P(w, c) - P*`` (``inf`` where ``theta'`` leaves the
        box or misses the constraints).
    """
    cxp, backend = objective.coef_xp, objective.backend
    raw = objective.raw(w, c)
    theta = _interior_correction(
        objective, -objective.raw_gradient(raw), raw, range(objective.n_features)
    )
    if theta is None:
        return math.inf
    v, total = objective.backprop(theta)
    bound, unit = _rounding(objective)
    if bool(cxp.any(cxp.abs(v) > bound)) or abs(backend.to_float(total)) > unit:
        return math.inf
    return _gap_at(objective, w, raw, theta, 1.0, 0.0 * v)


def _interior_correction(objective, theta, raw, columns):
    """Return ``theta - W Z a`` with ``Z.T`` of it 0, in the loss's box, or None.

    ``Z = [X_c[:, columns], 1]`` (no column of ones without a free intercept),
    ``W = u h`` on the samples strictly inside the box of
    :func:`_dual_bounds` (0 elsewhere) and ``a`` the
    solution of ``(Z.T W Z) a = Z.T theta`` (:func:`_interior_step`); None where
    the corrected point leaves the box by more than rounding (a point within it
    is clipped onto it). Two passes over X and the Gram columns of ``columns``
    under ``W`` (:func:`gram_columns`).
    """
    xp, cxp, loss = objective.xp, objective.coef_xp, objective.loss
    y, u = objective.y, objective.u
    lo, hi = _dual_bounds(objective)
    inside = (theta > lo) & (theta < hi)
    weights = xp.where(inside, u * loss.hessian(y, raw), 0.0 * u)
    step = _interior_step(objective, weights, *objective.backprop(theta), columns)
    if step is None:
        return None
    theta = theta - weights * objective.raw(*step)
    slack = 64.0 * float(cxp.finfo(objective.dtype).eps) * (hi - lo)
    if bool(xp.any((theta < lo - slack) | (theta > hi + slack))):
        return None
    return xp.clip(theta, lo, hi)


def _dual_bounds(objective):
    """Return the box ``lo <= theta <= hi`` of the Newton correction's dual point.

    The loss's :meth:`~skgd.losses.Loss.quadratic_dual_box` (huber, modified
    huber); for the binary log loss, whose conjugate (an entropy) is finite
    where ``s = y theta / u`` is in ``[0, 1]``, that box. Its Hessian weights
    ``u h`` vanish towards the box's faces (``h = p (1 - p)``), so the
    corrected point ``theta - W Z a`` stays inside for small ``a``.
    """
    loss, y, u = objective.loss, objective.y, objective.u
    if provides(loss, "quadratic_dual_box"):
        return loss.quadratic_dual_box(y, u)
    xp = array_namespace(y, u)
    edge = y * u
    return xp.minimum(edge, 0.0), xp.maximum(edge, 0.0)


def _balanced_applies(objective):
    """Return whether :func:`_balanced_unpenalized_gap` has a dual point to build.

    One output: a loss with a Hessian and a known dual box (:func:`_dual_bounds`:
    the binary log loss, modified huber). Several: the multinomial log loss,
    without the sign constraint.
    """
    loss = objective.loss
    if objective.n_outputs == 1:
        return provides(loss, "hessian") and (
            provides(loss, "quadratic_dual_box") or isinstance(loss, LogLoss)
        )
    return isinstance(loss, MultinomialLogLoss) and not objective.penalty.positive


def _balanced_unpenalized_gap(objective, w, raw, grad_w, raw_grad):
    r"""Return :func:`unpenalized_gap` for a loss that balances its dual point.

    Subtracting ``u sum(theta)`` (and ``U X_c[:, F] a``) may leave the domain
    of these losses' conjugates (a one-sided box, rows of a simplex). For one
    output, the Newton correction of the gradient's point over the columns of
    ``F`` and the intercept (:func:`_box_unpenalized_gap`, with the Hessian
    weights ``W = u h``, which keep it in the box); for the multinomial log
    loss, the same with the softmax's Hessian (:func:`_multinomial_newton_gap`).
    """
    if objective.n_outputs == 1:
        moving = _moving(objective.penalty, w, grad_w)
        return _box_unpenalized_gap(objective, w, raw, raw_grad, moving)
    return _multinomial_newton_gap(objective, w, raw, raw_grad)


def _multinomial_newton_gap(objective, w, raw, raw_grad):
    r"""Return :func:`unpenalized_gap` of the multinomial log loss.

    The gradient's dual point corrected by a Newton step of the softmax on the
    unpenalized columns and the intercept, ``Z = [X_c[:, F], 1]``: with ``P``
    the probabilities and ``H(S)_i = u_i (P_i * S_i - P_i (P_i . S_i))`` the
    Hessian's action on the rows of ``S``, ``A`` solves ``Z.T H(Z A) = Z.T
    Theta`` (a ``K m x K m`` system, singular along the classes' common shift,
    solved over its rank) and ``Theta' = Theta - H(Z A)``. Its rows still sum
    to 0, and the probabilities ``q = onehot - theta' / u``, which are ``P_ik
    (1 + s_ik - P_i . s_i)``, stay in the simplex for small steps however small
    ``P_ik`` is (a projection in the weights ``u`` leaves it where ``P_ik``
    is tiny: confident rows). ``X_c[:, F]`` is built once per call (one pass
    for the block), ``X_c.T Theta'`` is one more pass; ``inf`` where a row leaves
    the simplex beyond rounding, or ``X_c[:, F].T Theta'`` is beyond
    :func:`rounding_bound`.
    """
    loss, penalty, backend = objective.loss, objective.penalty, objective.backend
    cxp, xp, dev = objective.coef_xp, array_namespace(raw), backend.device
    y, u, n_classes = objective.y, objective.u, loss.n_classes
    index = cxp.asarray(penalty.unpenalized_features(), dtype=cxp.int64, device=dev)
    eye = cxp.eye(objective.n_features, dtype=objective.dtype, device=dev)
    Z = backend.matvec(objective.X, cxp.take(eye, index, axis=1))
    if objective.fit_intercept and objective.centered:
        Z = Z - cxp.take(objective.x_mean, index)
    free_sum = objective.intercept_mode == "free"
    if free_sum:
        Z = xp.concat([Z, xp.ones_like(Z[:, :1])], axis=1)
    P, theta = loss.inverse_link(raw), -raw_grad
    rows = []
    for k in range(n_classes):
        row = []
        for j in range(n_classes):
            weight = u * P[:, k] * ((1.0 if j == k else 0.0) - P[:, j])
            row.append(Z.T @ (weight[:, None] * Z))
        rows.append(xp.concat(row, axis=1))
    H = backend.to_coef(xp.concat(rows, axis=0))
    rhs = backend.to_coef(Z.T @ theta)
    # (Its rows sum to 0 over the classes but for rounding, which is off the
    # range of H and of the size of rhs itself near the optimum.)
    rhs = rhs - cxp.mean(rhs, axis=1)[:, None]
    a = _checked_solve(objective, H, cxp.reshape(rhs.T, (-1,)))
    if a is None:
        return math.inf
    S = Z @ cxp.astype(cxp.reshape(a, (n_classes, -1)).T, objective.dtype)
    mean = xp.sum(P * S, axis=1)
    theta = theta - u[:, None] * P * (S - mean[:, None])
    classes = xp.arange(n_classes, dtype=y.dtype, device=dev)
    safe = xp.where(u > 0, u, xp.ones_like(u))[:, None]
    q = xp.astype(y[:, None] == classes[None, :], theta.dtype) - theta / safe
    slack = 64.0 * float(cxp.finfo(objective.dtype).eps)
    if bool(xp.any((q < -slack) | (q > 1.0 + slack))):
        return math.inf
    v, total = objective.backprop(theta)
    bound, unit = _rounding(objective)
    off = cxp.abs(cxp.take(v, index, axis=0)) > cxp.take(bound, index, axis=0)
    total = float(cxp.max(cxp.abs(backend.to_coef(total))))
    if bool(cxp.any(off)) or free_sum and total > unit:
        return math.inf
    mask = cxp.sum(cxp.take(eye, index, axis=1), axis=1) > 0
    v = cxp.where(mask[:, None], 0.0 * v, v)
    return _gap_at(objective, w, raw, theta, penalty.penalized_dual_scale(v), v)


def _checked_solve(objective, H, rhs, known=0.0):
    """Return a solution of the PSD system ``H a = rhs`` in float64, or None.

    Over the numerical rank of ``H`` at the data's precision
    (:func:`~skgd._backend._dense.psd_solve`): a float32 matrix's rounding
    would otherwise pass for curvature, and its huge steps for a correction.
    The rank is taken in the Jacobi scaling, free of the columns' scales
    (1e-3 next to 1e3, where the largest pivot would hide the smallest
    columns). None where the solution is not finite, or the system has none
    to the data's rounding, or to ``known``: how far the right-hand side may
    be from its exact value, per entry. A singular ``H`` whose range misses
    ``rhs`` certifies nothing.
    """
    cxp = objective.coef_xp
    H, rhs = cxp.astype(H, cxp.float64), cxp.astype(rhs, cxp.float64)
    eps = float(cxp.finfo(objective.dtype).eps)
    d = cxp.linalg.diagonal(H)
    scale = cxp.where(d > 0, 1.0 / cxp.sqrt(cxp.where(d > 0, d, 1.0)), 0.0 * d)
    S = H * scale[:, None] * scale[None, :]
    a = scale * psd_solve(S, scale * rhs, rtol=H.shape[0] * eps)
    if not bool(cxp.all(cxp.isfinite(a))):
        return None
    size = float(cxp.max(cxp.abs(H))) * float(cxp.max(cxp.abs(a)))
    size += float(cxp.max(cxp.abs(rhs)))
    if bool(cxp.any(cxp.abs(H @ a - rhs) > 64.0 * eps * size + known)):
        return None
    return a


def _interior_step(objective, weights, v, t, columns, known=0.0):
    """Return ``(a_w, a_c)`` solving ``(Z.T W Z) a = (v_F, t)``, or None.

    ``Z = [X_c[:, F], 1]`` with ``F = columns`` (no column of ones without a
    free intercept), ``W = diag(weights)``, ``v = X_c.T theta`` and ``t =
    sum(theta)``; ``a_w`` is 0 off ``F``. In float64, over the numerical rank
    of ``Z.T W Z`` (:func:`~skgd._backend._dense.psd_solve`), so that columns
    without weight (constant ones, or none of the samples inside the box)
    get 0; None where the system has no solution to the data's rounding, or
    to ``known``: how far the right-hand side may be from its exact value (a
    computed ``X_c.T theta`` near 0 is all rounding on exactly collinear
    columns), per entry.
    """
    cxp, backend = objective.coef_xp, objective.backend
    f64, dev = cxp.float64, backend.device
    columns = list(columns)
    index = cxp.asarray(columns, dtype=cxp.int64, device=dev)
    H = cxp.astype(
        cxp.take(gram_columns(objective, weights, columns), index, axis=0), f64
    )
    rhs = cxp.astype(cxp.take(v, index), f64)
    free = objective.intercept_mode == "free"
    if free:
        b, s = objective.backprop(weights)
        b = cxp.reshape(cxp.astype(cxp.take(b, index), f64), (-1, 1))
        s = cxp.reshape(cxp.asarray(backend.to_float(s), dtype=f64), (1, 1))
        H = cxp.concat([cxp.concat([H, b], axis=1), cxp.concat([b.T, s], axis=1)])
        t = cxp.reshape(cxp.asarray(backend.to_float(t), dtype=f64), (1,))
        rhs = cxp.concat([rhs, t])
    # (A singular Z.T W Z: fewer samples inside the box than unknowns.)
    a = _checked_solve(objective, H, rhs, known=known)
    if a is None:
        return None
    k, p = len(columns), objective.n_features
    select = cxp.take(cxp.eye(p, dtype=f64, device=dev), index, axis=1)
    a_w = cxp.astype(select @ a[:k], objective.dtype)
    return a_w, float(a[k]) if free else objective.zero_offset()


def _free_gram(objective):
    """Return ``X_c.T U X_c[:, F]`` for the unpenalized features ``F`` (cached).

    The weighted centered Gram matrix's columns of those features, shape
    ``(n_features, len(F))``, once per objective (:func:`gram_columns`); in the
    Gram form, the columns of its matrix ``G`` (times the loss's curvature, the
    Hessian's), no pass at all.
    """
    cached = objective.__dict__.get("_free_gram")
    if cached is None:
        free = objective.penalty.unpenalized_features()
        if objective.form == "gram":
            # The Hessian's columns, already there (the squared loss's curvature
            # times G; inactive columns have zero rows in G).
            cxp = objective.coef_xp
            index = cxp.asarray(free, dtype=cxp.int64, device=objective.backend.device)
            cached = objective.curvature * cxp.take(objective.G, index, axis=1)
        else:
            cached = gram_columns(objective, objective.u, free)
        objective.__dict__["_free_gram"] = cached
    return cached


# The most entries of the sample-sized block of gram_columns at once (64 MB of
# float64): more columns go in several blocks.
_BLOCK_ENTRIES = 2**23


def gram_columns(objective, weights, columns):
    """Return ``X_c.T diag(weights) X_c[:, columns]``, zero on inactive rows.

    One block product through the backend: ``X_c[:, columns]`` (a copy of the
    columns where the backend takes columns, ``X @ E`` otherwise: still one
    sample-by-``k`` block, never a densified X), scaled by ``weights`` and
    multiplied by ``X_c.T`` in one pass, ``rmatvec_sum`` of the block, whose
    column sums center it. Where the columns are half of X's or more, the
    backend's weighted Gram matrix (one ``syrk``, or the sparse product) costs
    no more, and its columns are taken. A block of more than
    ``_BLOCK_ENTRIES`` entries is split by columns. The columns' centering and
    the zeroed inactive rows are those of ``backprop(u * raw(e_j, 0))``, the
    pair of passes per column this replaces.
    """
    backend, X, cxp = objective.backend, objective.X, objective.coef_xp
    p, dtype, dev = objective.n_features, objective.dtype, backend.device
    centered = objective.fit_intercept and objective.centered
    mean = objective.x_mean if centered else cxp.zeros(p, dtype=dtype, device=dev)
    index = cxp.asarray(list(columns), dtype=cxp.int64, device=dev)
    gram = getattr(backend, "weighted_gram", None) or getattr(
        backend, "sparse_gram", None
    )
    if gram is not None and 2 * len(columns) >= p:
        out = cxp.take(
            cxp.astype(backend.to_coef(gram(X, weights, mean)), dtype), index, axis=1
        )
    else:
        blocks = []
        step = max(1, _BLOCK_ENTRIES // max(objective.n_samples, 1))
        eye = cxp.eye(p, dtype=dtype, device=dev)
        for start in range(0, len(columns), step):
            part = index[start : min(start + step, len(columns))]
            take = getattr(backend, "take_columns", None)
            if take is not None and hasattr(backend, "weighted_gram"):
                block = take(X, part)  # (dense: a copy of the columns)
            else:
                block = backend.matvec(X, cxp.take(eye, part, axis=1))
            block = weights[:, None] * (block - cxp.take(mean, part))
            product, total = backend.rmatvec_sum(X, block)
            product = backend.to_coef(product)
            if centered:
                product = product - mean[:, None] * backend.to_coef(total)
            blocks.append(product)
        out = blocks[0] if len(blocks) == 1 else cxp.concat(blocks, axis=1)
    return cxp.where(objective.active[:, None], out, 0.0 * out)


def unpenalized_gap(objective, w, raw, grad_w, raw_grad):
    r"""Return a duality gap of a problem with features of penalty weight 0.

    The conjugate of such a penalty is finite only where ``v_j = (X_c.T theta)_j``
    is 0 on those features ``F`` (at most 0 with ``positive`` where ``w_j = 0``),
    as the intercept needs ``sum(theta) = 0``; no scaling of the gradient's dual
    point gives that. Its projection does: with ``G = X_c.T U X_c`` and ``a`` the
    solution of ``G_FF a = v_F`` (``F`` less the features that ``positive``
    holds at 0 with ``v_j <= 0``), ``theta' = theta - U X_c[:, F] a`` has
    ``v'_F = 0`` and ``v' = v - G_{:F} a``, then the penalty's scaling over the
    penalized features. For the squared loss ``theta'`` is the dual point of
    ``w' = w + a`` (the exact minimisation over ``F``), so the gap is

    .. math::

        \tfrac12 a^\top G_{FF} a + \mathrm{gap}(w', \theta'),

    both non-negative: :func:`quadratic_gap` at ``w'`` plus ``P(w) - P(w')``.
    In the Gram form (:class:`~skgd._gram.GramObjective`) the same, from ``G``
    and ``q`` alone: ``v = q - G w``, ``G_{:F}`` the columns of ``G`` and the
    squared residual norm ``y_c.T U y_c - 2 w.q + w.G w`` (no pass over X; the
    conjugate form where ``w'`` leaves ``w >= 0``: :func:`_gram_conjugate_gap`).
    For a loss with a conjugate it is :func:`conjugate_gap` at ``theta'`` (one
    more pass over X for ``X_c[:, F] a``; ``inf`` where ``theta'`` leaves the
    loss's domain; the Tweedie loss's numerical conjugate is a safe upper
    bound, so its gap is never below the exact one), and for the squared
    loss too where ``w'`` leaves ``w >= 0``.
    For a loss whose conjugate is quadratic on a box (huber), without the sign
    constraint, the smaller of that and the gap of the point corrected on the
    samples inside the box (:func:`_box_unpenalized_gap`), which is not scaled
    into the box and so is the exact suboptimality once the samples' pieces are
    the optimum's.

    Parameters
    ----------
    objective : LinearObjective or GramObjective
        The problem (one output, centered).
    w : array of shape (n_features,)
        Coefficients.
    raw : array of shape (n_samples,)
        ``objective.raw(w, c)`` (``G @ w`` in the Gram form).
    grad_w : array of shape (n_features,)
        The gradient of the mean loss in ``w``.
    raw_grad : array of shape (n_samples,) or None
        The gradient in the predictions that built ``grad_w`` (None in the
        Gram form).

    Returns
    -------
    gap : float
        An upper bound on ``P(w, c) - P*`` (``inf`` if none was found).
    """
    if objective.loss.balanced_dual:
        return _balanced_unpenalized_gap(objective, w, raw, grad_w, raw_grad)
    gap = _projected_gap(objective, w, raw, grad_w, raw_grad)
    penalty = objective.penalty
    if provides(objective.loss, "quadratic_dual_box") and not penalty.positive:
        free = penalty.unpenalized_features()
        gap = min(gap, _box_unpenalized_gap(objective, w, raw, raw_grad, free))
    return gap


def _projected_gap(objective, w, raw, grad_w, raw_grad):
    """Return :func:`unpenalized_gap` by the projection in the weights ``u``."""
    penalty, loss, cxp = objective.penalty, objective.loss, objective.coef_xp
    free = penalty.unpenalized_features()
    moving = [i for i, j in enumerate(free) if j in _moving(penalty, w, grad_w)]
    v, moved, decrease = -grad_w, None, 0.0
    if moving:
        eye = cxp.eye(w.shape[0], dtype=w.dtype, device=objective.backend.device)
        select = cxp.stack([eye[:, free[i]] for i in moving], axis=1)
        cols = cxp.stack([_free_gram(objective)[:, i] for i in moving], axis=1)
        block = select.T @ cols
        try:
            a = cxp.linalg.solve(block, select.T @ v)
        except Exception:  # a singular block: collinear unpenalized columns
            return math.inf
        moved = select @ a
        v = cxp.where(cxp.sum(select, axis=1) > 0, 0.0 * v, v - cols @ a)
        decrease = 0.5 * objective.backend.to_float(a @ (block @ a))
        if not math.isfinite(decrease):
            return math.inf
    moved_w = w if moved is None else w + moved
    # (With the sign constraint w' may leave w >= 0: then the conjugate form,
    # which needs only the dual point feasible.)
    if (
        loss.is_quadratic
        and objective.intercept_mode != "free"
        and not (penalty.positive and bool(cxp.any(moved_w < 0)))
    ):
        k = penalty.penalized_dual_scale(v)
        fy = penalty.fenchel_young(moved_w, k * v)

        def residual_sq():
            # ||r'||_U^2 = ||r||_U^2 - a.G a (r' = r - X_c[:, F] a, G a = v_F).
            return max(_residual_sq(objective, w, raw) - 2.0 * decrease, 0.0)

        return decrease + quadratic_gap(k, fy, residual_sq)
    if objective.form == "gram":
        return _gram_conjugate_gap(objective, w, raw, moved_w, v)
    xp, u = array_namespace(raw), objective.u
    theta = -raw_grad
    if objective.fit_intercept:
        theta = theta - u * xp.sum(theta)
    if moved is not None:
        theta = theta - u * objective.raw(moved, objective.zero_offset())
    k = 1.0
    box = loss.dual_box()
    if box is not None:
        ratio = xp.where(u > 0, xp.abs(theta), 0.0 * u) / xp.where(
            u > 0, u, xp.ones_like(u)
        )
        largest = objective.backend.to_float(xp.max(ratio))
        k = box / largest if largest > box else 1.0
    k = k * penalty.penalized_dual_scale(k * v)
    return _gap_at(objective, w, raw, theta, k, v)


def _moving(penalty, w, grad_w):
    """Return the unpenalized features whose constraint ``v_j = 0`` is imposed.

    All of them, but with the sign constraint those held at 0 with ``v_j <= 0``
    (the gradient pushes them below 0) stay, their constraint met.
    """
    return [
        j
        for j in penalty.unpenalized_features()
        if not penalty.positive or float(w[j]) > 0 or float(grad_w[j]) < 0
    ]


def _gram_conjugate_gap(objective, w, raw, moved_w, v):
    r"""Return :func:`conjugate_gap` of the Gram form at ``k theta'``.

    ``theta' = U r'``, ``r' = y_c - X_c w'`` the residual at ``w'``, has the loss
    dual value ``y_c.T theta' - ||theta'||^2_{U^{-1}} / 2``, i.e. ``k (y_c.T U
    y_c - q.w') - k^2 ||r'||_U^2 / 2`` at ``k theta'`` (times the curvature):
    from ``G`` and ``q`` alone.
    """
    curv, penalty = objective.curvature, objective.penalty
    k = penalty.penalized_dual_scale(v)
    moved_raw = objective.raw(moved_w, 0.0)
    linear = curv * (objective.yy - objective.backend.to_float(objective.q @ moved_w))
    loss_dual = k * linear - 0.5 * k * k * _residual_sq(objective, moved_w, moved_raw)
    return conjugate_gap(objective.value(w, raw), loss_dual, penalty, k, v)


def _residual_sq(objective, w, raw):
    """Return ``sum_i u_i r_i**2`` (times the curvature) of the sample or Gram form."""
    if objective.form == "gram":
        return objective.curvature * objective.residual_sq(w, raw)
    r = objective.y - raw
    return objective.backend.to_float((objective.u * r) @ r)


def _box_unpenalized_gap(objective, w, raw, raw_grad, free):
    """Return :func:`unpenalized_gap` by the interior correction of a box loss.

    The gradient's dual point corrected on the samples strictly inside the box
    of the loss's conjugate (:func:`_interior_correction` over the columns
    ``free`` and the intercept), which leaves the dual point at the optimum
    unscaled: ``inf`` where the corrected point leaves the box, or its
    ``X_c[:, free].T theta`` (one pass) is beyond :func:`rounding_bound`. The
    Gram columns of ``free`` are those of the samples inside the box: one
    block product per call. Without columns to correct (the sign constraint
    holds them all at 0) a balanced loss's point is only balanced.
    """
    cxp, backend, loss = objective.coef_xp, objective.backend, objective.loss
    if free:
        theta = _interior_correction(objective, -raw_grad, raw, free)
    elif objective.fit_intercept and loss.balanced_dual:
        theta = loss.balance_dual(objective.y, -raw_grad, objective.u)[0]
    else:
        theta = -raw_grad
    if theta is None:
        return math.inf
    v, total = objective.backprop(theta)
    bound, unit = _rounding(objective)
    index = cxp.asarray(list(free), dtype=cxp.int64, device=backend.device)
    off = cxp.abs(cxp.take(v, index)) > cxp.take(bound, index)
    # (Without an intercept sum(theta) is free.)
    free_sum = objective.intercept_mode == "free"
    if bool(cxp.any(off)) or free_sum and abs(backend.to_float(total)) > unit:
        return math.inf
    eye = cxp.eye(v.shape[0], dtype=v.dtype, device=backend.device)
    mask = cxp.sum(cxp.take(eye, index, axis=1), axis=1) > 0
    v = cxp.where(mask, 0.0 * v, v)
    k = objective.penalty.penalized_dual_scale(v)
    return _gap_at(objective, w, raw, theta, k, v)
