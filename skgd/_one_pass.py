# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The one-pass iteration of the full-batch solver for losses not affine in ``raw``.

For such a loss each iteration needs a pass over X of its own: :func:`pass_terms`
gathers all of its reductions into that pass (one ``compute`` on Dask, through
:meth:`Backend.reduce_rows`, which runs :func:`pass_block` on each block of rows):
the step test, the objective values, the gradient at the next point and what the
dual point there needs. :func:`dual_point`, :func:`dual_scale` and :func:`gap` turn
those reductions into a duality gap without a second pass. The objective's methods
of the same names call these.
"""

import functools
import math

from skgd._gaps import anchor, conjugate_gap, dual_scaling, toward_ball
from skgd.losses._base import mix_dual


def pass_terms(
    objective,
    raw_new=None,
    raw_y=None,
    raw_next=None,
    *,
    losses=(),
    duals=None,
    dual_terms=True,
):
    r"""Return what a full-batch iteration needs, from one pass over X.

    For a loss whose gradient is not affine in the predictions each iteration
    needs a pass of its own; this gathers all of its reductions into that pass
    (one ``compute`` on Dask, see :meth:`Backend.reduce_rows`), each part only
    when its vectors are given:

    - with ``raw_new`` and ``raw_y``, the step terms of :func:`step_terms` for
      ``draw = raw_new - raw_y``;
    - with ``raw_new``, the weighted mean of each loss of ``losses`` there;
    - with ``duals = (shift, [(loss, k), ...])``, each ``loss``'s
      :meth:`~skgd.losses.Loss.dual_value` at ``k * theta``, for ``theta`` the
      dual point that :func:`dual_point` made at ``raw_y`` (``shift`` is what
      it returned, from an earlier pass);
    - with ``raw_next``, the gradient there (the chain rule of ``gradient``)
      and what :func:`dual_point` and :func:`dual_scale` need to make a dual
      point there and scale it into the dual domain.

    Parameters
    ----------
    raw_new, raw_y, raw_next : array of shape (n_samples,) or None
        Predictions (see above), of shape ``(n_samples, K)`` for K outputs.
    losses : tuple of Loss, default=()
        The losses whose mean at ``raw_new`` is wanted.
    duals : tuple or None, default=None
        ``(shift, pairs)``: the dual points at ``raw_y`` to evaluate.
    dual_terms : bool, default=True
        Whether to return, with the gradient at ``raw_next``, what a dual point
        there needs (``"box"``, ``"extremes"``, ``"parts"``): the solver skips
        them while its free lower bound says the gap is far from ``tol``.

    Returns
    -------
    terms : dict
        ``"step"``: ``(sq_norm, rounding)``; ``"values"``: list of floats;
        ``"duals"``: list of floats; ``"grad"``: ``(grad_w, grad_c)``;
        ``"theta_sum"``: ``sum(theta)``; ``"box"``: ``(a_max, a_min)`` for
        :func:`dual_scale` (a loss with a box), or ``"extremes"`` and
        ``"parts"`` (``X.T`` and sums of the loss's
        :meth:`~skgd.losses.Loss.balance_parts`) for
        :meth:`~skgd.losses.Loss.balance_mix` (a balanced loss, with an
        intercept). Keys are present when their part was asked for.
    """
    fn = functools.partial(
        pass_block,
        loss=objective.loss,
        losses=tuple(losses),
        duals=duals,
        center=objective.fit_intercept,
        balanced=balanced(objective),
        dual_terms=dual_terms,
    )
    sums, maxima = objective.backend.reduce_rows(
        fn, objective.X, objective.y, objective.u, raw_new, raw_y, raw_next
    )
    sums = list(sums)[::-1]
    terms = {}
    if raw_new is not None:
        if raw_y is not None:
            eps = float(objective.coef_xp.finfo(objective.dtype).eps)
            sq, level = float(sums.pop()), float(sums.pop())
            terms["step"] = (sq, 64.0 * eps * eps * level)
        terms["values"] = [float(sums.pop()) for _ in losses]
    if duals is not None:
        terms["duals"] = [float(sums.pop()) for _ in duals[1]]
    if raw_next is not None:
        product, sum_g = sums.pop(), objective.coef_value(sums.pop())
        terms["grad"] = objective.chain(product, sum_g)
        terms["theta_sum"] = -sum_g
        if not dual_terms:
            pass
        elif balanced(objective):
            if objective.balance_part_count:
                terms["parts"] = (sums.pop(), sums.pop())
            terms["extremes"] = tuple(maxima)
        elif objective.n_outputs == 1:
            terms["box"] = (float(maxima[0]), -float(maxima[1]))
    return terms


def balanced(objective):
    """Return whether the dual point is balanced by the loss (with an intercept)."""
    return objective.fit_intercept and objective.loss.balanced_dual


def part_count(objective):
    """Return the number of the loss's :meth:`~skgd.losses.Loss.balance_parts`."""
    if not balanced(objective):
        return 0
    empty = objective.u[:0]  # the loss answers the same whatever the data
    return len(objective.loss.balance_parts(empty, empty))


def dual_point(objective, terms):
    """Return the dual point made at the ``raw_next`` of a :func:`pass_terms`.

    Parameters
    ----------
    terms : dict
        The pass's terms.

    Returns
    -------
    shift : float or tuple
        What makes ``theta = -raw_gradient(raw_next)`` sum to zero: the sum
        subtracted (``u * shift``), or the ``(t, b, a, d)`` of
        :meth:`~skgd.losses.Loss.balance_mix`.
    v : array of shape (n_features,) or (n_features, K)
        ``X_c.T theta`` (before the scaling of :func:`dual_scale`).
    """
    v = -terms["grad"][0]
    if not balanced(objective):
        return terms["theta_sum"], v
    cxp, dev = objective.coef_xp, objective.backend.device
    anchor_product, anchor_sum = anchor(objective)

    def arr(x):
        return None if x is None else cxp.asarray(x, dtype=objective.dtype, device=dev)

    products, part_sums = terms.get("parts", (None, None))
    part_sums = arr(part_sums)
    t, b, a, d = objective.loss.balance_mix(
        arr(terms["theta_sum"]),
        part_sums,
        arr(anchor_sum),
        [arr(e) for e in terms["extremes"]],
    )
    t, a = float(t), float(a)
    b = tuple(float(weight) for weight in b)
    d = float(d) if objective.n_outputs == 1 else d
    v = (1.0 - t) * v
    for j, weight in enumerate(b):
        v = v + weight * objective.chain(products[:, j], part_sums[j])[0]
    if anchor_product is not None:
        v = v + a * anchor_product
    return (t, b, a, d), v


def dual_scale(objective, v, terms):
    """Return the scaling ``k`` of the dual point at the predictions of a pass.

    The dual point is the ``theta`` of :func:`dual_point`, for ``raw`` the
    ``raw_next`` of a :func:`pass_terms`. For a loss with a
    :meth:`~skgd.losses.Loss.dual_box` ``theta`` is centered as in
    :func:`skgd._gaps.sample_gap`; with ``a_i = theta_i / u_i`` before centering,
    ``max_i |theta_i| / u_i`` after centering is ``max(a_max - theta_sum,
    theta_sum - a_min)`` (``"box"`` and ``"theta_sum"`` of the pass), so no
    second pass is needed.

    Parameters
    ----------
    v : array of shape (n_features,) or (n_features, K)
        ``X_c.T theta``, from :func:`dual_point`.
    terms : dict
        The pass's terms.

    Returns
    -------
    k : float
        The factor, in ``[0, 1]``.
    """
    largest = 0.0
    if "box" in terms:
        a_max, a_min = terms["box"]
        theta_sum = terms["theta_sum"] if objective.fit_intercept else 0.0
        largest = max(a_max - theta_sum, theta_sum - a_min)
    return dual_scaling(objective, toward_ball(objective, v), largest)


def gap(objective, value, loss_dual, k, v):
    """Return the duality gap of a primal value and a dual point of a pass.

    :func:`skgd._gaps.conjugate_gap` of ``value`` (the objective at any point),
    ``loss_dual`` (of :func:`pass_terms`), ``k`` (of :func:`dual_scale`) and ``v``
    (of :func:`dual_point`).
    """
    return conjugate_gap(
        value, loss_dual, objective.penalty, k, toward_ball(objective, v)
    )


def pass_block(
    bk,
    X,
    y,
    u,
    raw_new,
    raw_y,
    raw_next,
    *,
    loss,
    losses,
    duals,
    center,
    balanced,
    dual_terms,
):
    """Return the partial sums and maxima of :func:`pass_terms`.

    Runs on a block of rows (all rows for in-memory data), so it may only touch the
    block's vectors; ``bk`` is the block's backend. The order of the results is the
    one ``pass_terms`` reads them in.
    """
    xp = bk.xp
    uc = u if loss.n_outputs == 1 else u[:, None]
    sums, maxima = [], []
    if raw_new is not None:
        if raw_y is not None:
            draw = raw_new - raw_y
            scale = raw_new * raw_new + raw_y * raw_y
            us = u
            if loss.curvature_bound is None and loss.is_smooth:
                # No global bound: each sample weighs by its curvature's bound
                # along the step (the deviances), and the test's factor is 1.
                us = u * loss.curvature_between(y, raw_y, raw_new)
            if loss.n_outputs == 1:
                sums += [(us * draw) @ draw, xp.sum(us * scale)]
            else:
                sums += [xp.sum(uc * draw * draw), xp.sum(uc * scale)]
        sums += [xp.sum(u * f.pointwise(y, raw_new)) for f in losses]
    if duals is not None:
        shift, pairs = duals
        theta = -(uc * loss.gradient(y, raw_y))
        if balanced:
            parts = loss.balance_parts(y, theta)
            theta = mix_dual(theta, parts, loss.balance_anchor(y, u), u, *shift)
        elif center:
            theta = theta - u * shift
        sums += [f.dual_value(y, k * theta, u) for f, k in pairs]
    if raw_next is not None:
        grad = loss.gradient(y, raw_next)
        g = uc * grad
        parts = loss.balance_parts(y, -g) if balanced and dual_terms else ()
        if parts:
            # X.T of g and of the parts of theta = -g in one product (one column
            # each): the parts give the balanced dual point's X_c.T.
            products = bk.rmatvec(X, xp.stack([g, *parts], axis=1))
            part_sums = xp.stack([xp.sum(part) for part in parts])
            sums += [products[:, 0], xp.sum(g), products[:, 1:], part_sums]
        else:
            sums += [bk.rmatvec(X, g), xp.sum(g, axis=0)]
        if not dual_terms:
            pass
        elif balanced:
            maxima += [
                xp.max(e, axis=0)
                if e.shape[0]
                else xp.full(e.shape[1:], -math.inf, dtype=e.dtype)
                for e in loss.balance_extremes(y, -g, u)
            ]
        elif loss.n_outputs == 1:
            # The extremes of theta_i / u_i = -grad_i (rows with u_i > 0) are all
            # that the box test of the centered dual point needs: no second pass.
            low = xp.full_like(grad, -math.inf)
            for a in (-grad, grad):
                top = xp.max(xp.where(u > 0, a, low)) if a.shape[0] else -math.inf
                maxima.append(top)
    return sums, maxima
