# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The elastic net on a small Gram matrix, solved in coefficient space.

These are the inner solvers of the working-set strategy
(:mod:`skgd.solvers._working_set`) for the squared loss: they see only ``G``
(``k x k``), ``q`` and ``y.T U y``, never X, so each iteration costs ``O(k**2)``.
:func:`solve_gram_cd` runs coordinate descent (scikit-learn's compiled loop) and
certifies its result (or leaves that to a caller that certifies it, given the
loop's own gap); :func:`solve_gram_enet` runs accelerated proximal gradient
with exact solves on the support (any Array API namespace), and finishes what
coordinate descent leaves; :func:`start_cannot_certify` tells, in ``k``
operations, a start whose duality gap is sure to miss a threshold. They know
nothing of working sets, intercepts or backends.
"""

import contextlib
import math
import warnings
from dataclasses import dataclass

from array_api_compat import device, is_numpy_namespace
from array_api_compat import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from skgd._backend._namespace import largest, total
from skgd._gaps import gram_rounding_bound, nearest_subgradient, quadratic_gap
from skgd.solvers._apg import APGState, Oracle, run

# The duality gap costs about as much as an iteration: it is checked every few.
_CHECK_EVERY = 4
# Rounds of the active-set prediction before the first iteration.
_ACTIVE_SET_ROUNDS = 3
# Budget of coordinate-descent epochs per subproblem (each costs k**2 operations,
# less than a FISTA iteration, and no Python call per coordinate).
_CD_MAX_EPOCHS = 20_000
# Runs of it per subproblem (see solve_gram_cd).
_CD_RUNS = 4

# Its cyclic order draws no random numbers, but it takes a generator (made once:
# making one costs more than a small subproblem).
_RNG = check_random_state(0)


def _compiled_cd():
    """Return scikit-learn's compiled coordinate descent on a Gram matrix, or None.

    It is the inner solver of ``Lasso(precompute=True)``: private, hence the guard.
    Two 1 x 1 problems check, once, that it takes the arguments and returns the
    values this module uses (the second, that its ``positive`` flag clips a
    negative solution to 0); where it does not (another scikit-learn), the
    proximal-gradient iteration below does the work.
    """
    try:
        from sklearn.linear_model._cd_fast import enet_coordinate_descent_gram as cd

        one, G = np.ones(1), np.ones((1, 1))
        w, gap, _, _ = cd(np.zeros(1), 0.5, 0.0, G, one, one, 10, 1e-12, _RNG)
        if not (abs(float(w[0]) - 0.5) < 1e-12 and float(gap) >= 0.0):
            return None
        w, _, _, _ = cd(np.zeros(1), 0.5, 0.0, G, -one, one, 10, 1e-12, _RNG, 0, 1)
        if float(w[0]) != 0.0:
            return None
    except Exception:
        return None
    return cd


enet_coordinate_descent_gram = _compiled_cd()
# Callers of silenced_cd now (a count: nested calls).
_SILENCED = [0]


@contextlib.contextmanager
def silenced_cd():
    """Silence the compiled loop's warning of a run cut by its budget, in every thread.

    ``warnings.catch_warnings`` swaps the process's one list of filters on entry
    and back on exit: two threads that each wrap their runs in it (as
    :func:`compiled_cd` does) can restore each other's list, letting the
    warning through and leaving a filter of the other behind, in force after
    the fit. The caller of tasks that run on several threads (the folds of
    :class:`~skgd.GDRegressorCV`) holds this one filter, of the loop's own
    message from this module alone, around them all; :func:`compiled_cd` then
    sets none.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Objective did not converge",
            category=ConvergenceWarning,
            module=__name__,
        )
        _SILENCED[0] += 1
        try:
            yield
        finally:
            _SILENCED[0] -= 1


def _dual_gap(penalty, w, v, yy, vq, xp):
    """Return the duality gap at ``w`` with ``v = q - G w`` and ``vq = w.(2q - Gw)``.

    :func:`elastic_net_gap` of the elastic net's own dual point alone, with the
    squared residual norm ``yy - vq``.
    """
    residual_sq = lambda: max(yy - vq, 0.0)
    return elastic_net_gap(penalty, w, v, residual_sq, xp, lasso_form=False)


def elastic_net_gap(penalty, w, v, residual_sq, xp, lasso_form=True, enough=0.0):
    r"""Return the duality gap of the squared loss with an elastic net at ``w``.

    :func:`skgd._gaps.quadratic_gap` at the dual point ``k v``. The scaling and
    the Fenchel-Young terms are those of the penalty's ``dual_scale`` and
    ``fenchel_young``, written out for the elastic net because this runs every few
    iterations on small vectors, where the call overhead is the cost. With the
    constraint ``w >= 0`` the conjugate sees ``v`` itself where it sees ``|v|``
    without (its supremum runs over ``w >= 0``): the conditions are one-sided.

    With both an L1 and an L2 part and ``lasso_form``, the smaller of that gap
    and the gap of the lasso form: ``min 1/2 ||r||^2 + l1 ||w||_1 + l2/2
    ||w||^2`` is the lasso of the design ``[X_c; sqrt(l2) I]`` and the targets
    ``[y_c; 0]``, whose residual is ``(r, -sqrt(l2) w)``. Its dual point (that
    residual scaled into the L1 ball, the one of scikit-learn's coordinate
    descent) has the correlations ``v - l2 w`` and the squared norm ``||r||^2 +
    l2 ||w||^2``: the pure-L1 gap of those certifies the same problem from
    another dual point. Near the optimum the elastic net's own conjugate divides
    the residual of the optimality conditions by ``l2`` (its gap is quadratic in
    it over ``l2``), the lasso form's is linear in it: with a small ``l2`` (the
    end of a path) it is far the smaller, and a warm start often meets it at
    once where the other took hundreds of coordinate-descent epochs. Far from
    the optimum (a large residual to scale) the other can be the smaller.

    Parameters
    ----------
    penalty : Penalty
        A penalty with :meth:`~skgd.penalties.Penalty.elastic_net_shape`.
    w : array of shape (k,)
        Coefficients.
    v : array of shape (k,)
        ``-grad_w`` of the loss (``q - G w``, times the loss curvature).
    residual_sq : callable
        Returns ``sum_i u_i r_i**2`` (times the loss curvature) when called
        (needed only where a dual point is scaled).
    xp : namespace
        The arrays' namespace.
    lasso_form : bool, default=True
        Whether the lasso form's gap is taken too.
    enough : float, default=0.0
        The lasso form's gap is computed first, and returned at once when it is
        at most this: a caller's threshold, which the smaller of the two would
        meet as well (the elastic net's own costs twice as much).

    Returns
    -------
    gap : float
        An upper bound on the suboptimality of ``w`` (``inf`` if not finite).
    """
    l1, l2, positive = penalty.elastic_net_shape()
    if not l2:
        return _l1_gap(l1, positive, w, v, residual_sq, xp)
    lasso = math.inf
    if l1 and lasso_form:
        augmented = lambda: residual_sq() + l2 * float(w @ w)
        lasso = _l1_gap(l1, positive, w, v - l2 * w, augmented, xp)
        if lasso <= enough:
            return lasso
    absw = xp.abs(w)
    s = v if positive else xp.abs(v)
    # sign(w) v - l1; where w == 0 the term is z**2 / (2 l2) alone.
    t = xp.where(w > 0, v, -v) - l1
    z = xp.maximum(s - l1, 0.0)
    on = (w != 0) & (t >= 0)
    diff = l2 * absw - t
    term = xp.where(
        on,
        diff * diff,
        2.0 * l2 * absw * xp.maximum(-t, 0.0) + (l2 * absw) ** 2 + z * z,
    )
    # With an L2 part the dual point needs no scaling (k = 1).
    return min(lasso, quadratic_gap(1.0, float(xp.sum(term)) / (2.0 * l2), None))


def _l1_gap(l1, positive, w, v, residual_sq, xp):
    """Return the gap of :func:`elastic_net_gap` for pure L1 (the dual point scaled)."""
    s = v if positive else xp.abs(v)
    vmax = float(largest(xp, s)) if v.shape[0] else 0.0
    k = 1.0 if vmax <= l1 else l1 / vmax
    # |w_j| (l1 - sign(w_j) k v_j), each term non-negative as |k v_j| <= l1.
    fy = float(total(xp, xp.maximum(l1 * xp.abs(w) - k * (w * v), 0.0)))
    return quadratic_gap(k, fy, residual_sq)


def scatter(xp, n, idx, values):
    """Return the vector of length ``n`` holding ``values`` at ``idx``, 0 elsewhere.

    ``idx`` holds distinct indices. numpy assigns in place; the Array API standard
    has no scatter, so there the positions are found by a sorted search.
    """
    if is_numpy_namespace(xp):
        out = xp.zeros(n, dtype=values.dtype)
        out[idx] = values
        return out
    k = idx.shape[0]
    if k == 0:
        return xp.zeros(n, dtype=values.dtype, device=device(values))
    order = xp.argsort(idx)
    sorted_idx = xp.take(idx, order)
    j = xp.arange(n, dtype=idx.dtype, device=device(idx))
    pos = xp.minimum(xp.searchsorted(sorted_idx, j), k - 1)
    hit = xp.take(sorted_idx, pos) == j
    return xp.where(hit, xp.take(xp.take(values, order), pos), 0.0 * values[0])


def _newton_step(G, q, penalty, signs, xp):
    """Return the exact minimiser with signs ``signs`` (or None) and the signs kept.

    On a fixed support ``S`` with signs ``s`` the objective is quadratic, so its
    minimiser solves ``(G_SS + l2 I) z = q_S - l1 s``. Once proximal gradient has
    found the support, this one solve replaces the linearly converging tail of the
    iteration; along a path, the previous solution's support and the features that
    violate their optimality condition predict the new one, and this solve often
    replaces the iteration altogether. The candidate is returned only if it keeps
    the signs; whether it is better is for the caller to judge by the duality gap.
    The signs kept are those the solution agrees with (zero elsewhere), the next
    guess of an active-set method.
    """
    (idx,) = xp.nonzero(signs)
    m = idx.shape[0]
    if m == 0:
        return None, signs
    s = xp.take(signs, idx)
    A = xp.take(xp.take(G, idx, axis=0), idx, axis=1)
    l1, l2, _ = penalty.elastic_net_shape()
    if l2:
        A = A + l2 * xp.eye(m, dtype=G.dtype, device=device(G))
    try:
        z = xp.linalg.solve(A, xp.take(q, idx) - l1 * s)
    # A singular G_SS (collinear columns): numpy's LinAlgError is a ValueError,
    # torch's a RuntimeError.
    except (ValueError, RuntimeError):
        return None, signs
    agree = z * s > 0
    kept = scatter(xp, signs.shape[0], idx, xp.where(agree, s, 0.0 * s))
    if not bool(xp.all(agree)):
        return None, kept
    return scatter(xp, signs.shape[0], idx, z), kept


def _largest_eigenvalue(G, inv_sqrt_d, xp, n_iter=8):
    """Return a power-iteration estimate of the top eigenvalue of ``D^-1/2 G D^-1/2``.

    An underestimate is harmless: the solver backtracks on the curvature along each
    step, so this only saves the first backtracking steps (hence few iterations).
    """
    v = inv_sqrt_d * 0.0 + 1.0
    k, first, lam = v.shape[0], True, 1.0
    for _ in range(n_iter):
        gv = inv_sqrt_d * (G @ (inv_sqrt_d * v))
        gg = float(gv @ gv)
        if not gg > 0:
            return 1.0
        # v has unit norm after the first step, so this is ||A v|| / ||v||.
        lam = math.sqrt(gg) / (math.sqrt(k) if first else 1.0)
        v, first = gv / math.sqrt(gg), False
    return max(lam, 1.0)


def solve_gram_enet(
    G,
    q,
    yy,
    penalty,
    w,
    *,
    threshold,
    max_iter,
    xp,
    on_iter=None,
    verbose=0,
    ref=1.0,
    first_iter=0,
    lasso_form=False,
):
    r"""Minimise ``1/2 (yy - 2 q.w + w.G w) + h(w)`` by FISTA in the Jacobi metric.

    ``h`` is an elastic-net penalty (``l1 ||w||_1 + l2/2 ||w||_2^2``, with or
    without the constraint ``w >= 0``: its prox then clips at 0) and ``G`` a
    positive semi-definite matrix with a positive diagonal. The iteration is the
    kernel of :mod:`skgd.solvers._apg` (that of :func:`~skgd.solvers._gd.solve_gd`) with
    the oracle of a quadratic in coefficient space (:class:`_GramOracle`):
    per-coordinate steps ``1 / (L G_jj)``, ``L`` from a power iteration and raised by
    backtracking on the exact curvature ``dw.G dw`` along each step, and adaptive
    restart. Every :data:`_CHECK_EVERY` iterations the duality gap is computed, and
    when the support has not changed since the previous check (or the gap is met),
    the exact minimiser on that support (one linear solve, see
    :func:`_newton_step`) is tried and kept if its gap is smaller. So the support is
    found at the speed of accelerated proximal gradient and the last digits cost one
    solve, which is what makes tight tolerances cheap. Before the first iteration the
    same solve is tried on the predicted support (the current one plus the features
    that violate their optimality condition): along a path it is often already the
    answer, and costs no iteration of the loop (it counts as one).

    Parameters
    ----------
    G : array of shape (k, k)
        The Gram matrix (times the loss curvature).
    q : array of shape (k,)
        ``X_c.T U y_c`` (times the loss curvature).
    yy : float
        ``y_c.T U y_c`` (times the loss curvature): the objective at ``w = 0`` is
        ``yy / 2``.
    penalty : Penalty
        A penalty with :meth:`~skgd.penalties.Penalty.elastic_net_shape`, with
        ``l1 > 0`` or ``l2 > 0``.
    w : array of shape (k,)
        Starting point.
    threshold : float
        Stop when the duality gap is at most this.
    max_iter : int
        Iteration budget.
    xp : namespace
        The arrays' namespace (numpy through array-api-compat).
    on_iter : callable or None, default=None
        Called as ``on_iter(w, value)`` after each iteration.
    verbose : int, default=0
        Print one line per iteration when positive.
    ref : float, default=1.0
        The printed gap is relative to this.
    first_iter : int, default=0
        Number of iterations made before this call (for the printed count).
    lasso_form : bool, default=False
        Certify by the smaller of the elastic net's gap and its lasso form's
        (:func:`elastic_net_gap`), as a caller whose own measure is that smaller
        gap does (the working sets). Off, the gap is the elastic net's alone: a
        caller that sets ``threshold`` as a share of that gap (proximal Newton's
        inner solves) needs the same measure, or the share is met at the start.

    Returns
    -------
    w : array of shape (k,)
        The last iterate (or polished point).
    gap : float
        Its duality gap.
    curve : list of float
        The objective after each iteration.
    """
    kw = {"on_iter": on_iter, "verbose": verbose, "ref": ref, "lasso_form": lasso_form}
    limits = {"max_iter": max_iter, "threshold": threshold, "first_iter": first_iter}
    return _fista_gram(_oracle(G, q, yy, penalty, xp, **limits, **kw), w)


def solve_gram_cd(
    G, q, yy, penalty, w, *, threshold, max_iter, xp, certify=True, **options
):
    r"""Minimise the objective of :func:`solve_gram_enet` by coordinate descent first.

    Cyclic coordinate descent on ``G`` (scikit-learn's compiled
    ``enet_coordinate_descent_gram``, the inner loop of glmnet and of
    ``Lasso(precompute=True)``) updates one coefficient at a time exactly, so
    correlated columns, which make a gradient step in a diagonal metric crawl, cost
    it little: an epoch is ``k**2`` operations, and it needs tens to hundreds of
    them on the working sets' problems. A run counts as one iteration (as an
    exact solve does). Its result is certified by the duality gap of
    :func:`solve_gram_enet`'s oracle; where that misses ``threshold`` while the
    loop's own gap (whose dual point is scaled differently) met it, the loop runs
    again to a proportionally smaller tolerance (at most :data:`_CD_RUNS` runs);
    what still misses it (a run cut by its epoch budget, rounding) goes on in
    :func:`solve_gram_enet` as a warm start. Arrays other than numpy's, and a
    target fitted exactly (``yy = 0``, no scale for the stopping test), go to
    :func:`solve_gram_enet` directly.

    With ``certify=False`` and ``lasso_form``, a first run that meets
    ``threshold`` by the loop's own gap is returned with that gap: its dual
    point is the lasso form's, the one :func:`elastic_net_gap` would take the
    smaller gap of, and a caller that certifies the result itself (a working
    set, by the gap of the full problem) needs no second measure of it (on a
    GDRegressorCV path of 100 x 2,000, that measure took a fifth of each
    subproblem's time, and never missed what the loop met). Not with
    ``threshold`` 0 (run the budget), where the loop's gap, computed by
    difference, may be 0 where ours is not.

    Parameters
    ----------
    G, q, yy, penalty, w, threshold, max_iter, xp
        As for :func:`solve_gram_enet`.
    certify : bool, default=True
        Whether the result is measured by :func:`solve_gram_enet`'s gap even
        where the loop met ``threshold`` (see above).
    **options
        ``on_iter``, ``verbose``, ``ref``, ``first_iter`` and ``lasso_form``, as
        for :func:`solve_gram_enet` (with its defaults).

    Returns
    -------
    w : array of shape (k,)
        The solution.
    gap : float
        Its duality gap.
    curve : list of float
        The objective after each iteration.
    """
    if (
        enet_coordinate_descent_gram is None
        or not is_numpy_namespace(xp)
        or not yy > 0
        or max_iter <= 0
        or G.dtype not in (xp.float32, xp.float64)
    ):
        limits = {"threshold": threshold, "max_iter": max_iter, "xp": xp}
        return solve_gram_enet(G, q, yy, penalty, w, **limits, **options)
    # The compiled loop scales its tolerance by ``y.y``: a one-element y of that
    # norm makes it the duality gap ``threshold`` (its objective is this one).
    y_norm = xp.asarray([math.sqrt(yy)], dtype=G.dtype)
    first_iter = options.pop("first_iter", 0)
    limits = {"max_iter": max_iter, "threshold": threshold, "first_iter": first_iter}
    w, cd_gap = compiled_cd(G, q, y_norm, penalty, w, _CD_MAX_EPOCHS, threshold / yy)
    if not certify and options.get("lasso_form") and 0 <= cd_gap <= threshold > 0:
        return _uncertified(G, q, yy, penalty, xp.asarray(w), cd_gap, limits, options)
    oracle = _oracle(G, q, yy, penalty, xp, **limits, **options)
    curve, target = [], threshold
    while True:
        if curve:
            # (A run cut by its budget: the gap below decides what follows.)
            w, cd_gap = compiled_cd(
                G, q, y_norm, penalty, w, _CD_MAX_EPOCHS, target / yy
            )
        x = oracle.point(xp.asarray(w))
        curve.append(oracle.value(x))
        oracle.announce(len(curve), curve[-1], x.w, None, x.gap)
        # The compiled loop's gap scales its dual point into the dual domain
        # even with an L2 part, ours does not: far from the optimum its gap is
        # the smaller. Until ours meets the threshold, it runs again to the
        # threshold scaled by the ratio of the two.
        if x.gap <= threshold or len(curve) >= min(max_iter, _CD_RUNS):
            break
        if not 0 < cd_gap < x.gap:
            break
        target = 0.5 * threshold * cd_gap / x.gap
    if x.gap <= threshold or max_iter <= len(curve):
        return x.w, x.gap, curve
    w, gap, rest = solve_gram_enet(
        G,
        q,
        yy,
        penalty,
        x.w,
        threshold=threshold,
        max_iter=max_iter - len(curve),
        xp=xp,
        first_iter=first_iter + len(curve),
        **options,
    )
    return w, gap, curve + rest


def _uncertified(G, q, yy, penalty, w, gap, limits, options):
    """Return :func:`solve_gram_cd`'s result of one run, ``gap`` the loop's own.

    The objective at ``w`` is reported as :class:`_GramOracle` reports it, with
    no oracle built (its rounding bound and duality gap are not needed).
    """
    report = {k: v for k, v in options.items() if k != "lasso_form"}
    point = _GramPoint(w, G @ w)
    point.vq = float(w @ (2.0 * q - point.Gw))
    l1, l2, _ = penalty.elastic_net_shape()
    value = _GramOracle.value_at(point, yy, l1, l2, np)
    _Report(first_iter=limits["first_iter"], **report)(1, value, w, None, gap)
    return w, gap, [value]


def start_cannot_certify(G, q, yy, penalty, w, threshold, xp):
    r"""Return whether the duality gap at ``w`` provably exceeds ``threshold``.

    Minimising the objective ``P`` over the coordinate ``j`` alone (``a_j =
    G_jj + l2``, ``b_j = q_j - (G w)_j + G_jj w_j``, the minimiser ``u_j =
    soft(b_j, l1) / a_j``) decreases it by at least ``a_j / 2 (w_j - u_j)**2``
    (the rest of the exact decrease, ``l1 |w_j| - g_j w_j`` with ``g_j = b_j -
    a_j u_j`` in ``[-l1, l1]``, is not negative). The largest of these is a lower
    bound on ``P(w) - P*``, so on any duality gap at ``w``; each ``|w_j - u_j|``
    is first shrunk by the rounding of ``b_j`` (:func:`gram_rounding_bound` over
    ``a_j``), and the bound must exceed twice ``threshold``. Then the gap cannot
    certify ``w``: a path's warm start at the next alpha, whose gap costs two
    dual points only to be found too large. False (no screen) with per-feature
    weights or ``threshold <= 0``.
    """
    shape = penalty.elastic_net_shape()
    if shape is None or not threshold > 0 or w.shape[0] == 0:
        return False
    l1, l2, positive = shape
    d = xp.linalg.diagonal(G)
    a = d + l2
    b = q - G @ w + d * w
    if positive:
        u = xp.maximum(b - l1, 0.0) / a
    else:
        u = (b - xp.minimum(xp.maximum(b, -l1), l1)) / a
    eps = float(xp.finfo(G.dtype).eps)
    slack = xp.maximum(xp.abs(w - u) - gram_rounding_bound(d, yy, eps) / a, 0.0)
    return 0.5 * float(largest(xp, a * slack * slack)) > 2.0 * threshold


def _oracle(G, q, yy, penalty, xp, *, max_iter, threshold, lasso_form=False, **report):
    """Return the :class:`_GramOracle` of a solve, reporting as its caller asked."""
    limits = {"max_iter": max_iter, "threshold": threshold, "lasso_form": lasso_form}
    return _GramOracle(G, q, yy, penalty, xp, report=_Report(**report), **limits)


def compiled_cd(G, q, y_norm, penalty, w, max_epochs, tol, *, quiet=True):
    """Run :data:`enet_coordinate_descent_gram` from ``w`` (numpy, not changed).

    Cyclic order; the warning of a run cut by ``max_epochs`` is silenced (the
    caller judges the result), here if ``quiet``, else by the caller (a
    filter set once for many calls), and inside :func:`silenced_cd` by its
    filter. ``tol`` is relative to
    ``y_norm @ y_norm``, as for the loop itself. Its BLAS calls are vector
    operations of ``G``'s size: no threads to limit.

    Returns
    -------
    w : array of shape (k,)
        The loop's last iterate.
    gap : float
        Its own duality gap there.
    """
    l1, l2, positive = penalty.elastic_net_shape()
    # (numpy's np.array, not array-api-compat's asarray wrapper: it costs more.)
    args = (l1, l2, G, q, y_norm, max_epochs, tol, _RNG, 0, int(positive))
    w = np.array(w, dtype=G.dtype, copy=True)  # 0 above: cyclic order
    if not quiet or _SILENCED[0]:
        w, gap, _, _ = enet_coordinate_descent_gram(w, *args)
        return np.array(w, copy=None), gap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        w, gap, _, _ = enet_coordinate_descent_gram(w, *args)
    return np.array(w, copy=None), gap


def _fista_gram(oracle, w):
    """Run the iteration of :func:`solve_gram_enet` (see there)."""
    x = oracle.point(w)
    if x.gap <= oracle.threshold or oracle.max_iter <= 0:
        return w, x.gap, []
    curve = []
    guess = _predict_support(oracle, x)
    if guess is not None:
        x = guess
        curve.append(oracle.value(x))
        oracle.announce(len(curve), curve[-1], x.w, None, x.gap)
        if x.gap <= oracle.threshold or oracle.max_iter <= 1:
            return x.w, x.gap, curve
    state = run(
        oracle, oracle.start(x, curve), first=len(curve) + 1, last=oracle.max_iter
    )
    return state.x.w, state.measure, state.curve


def _predict_support(oracle, x):
    """Return the best exact solve on a predicted support, or None if none helps.

    The predicted support is the current one, plus the features whose optimality
    condition fails, entering with the sign that decreases the objective; then a
    few rounds of a primal active-set method (drop the features whose sign the
    solve contradicts, add those that still violate their condition). Each round is
    one small solve; the first candidate whose gap is small enough ends it.
    """
    G, q, penalty, xp = oracle.G, oracle.q, oracle.penalty, oracle.xp
    signs = xp.sign(x.w)
    v = q - x.Gw
    best, add = None, True
    for _ in range(_ACTIVE_SET_ROUNDS):
        if add:
            # (With w >= 0 only v_j > l1 violates, and enters with sign +1.)
            score = v if oracle.positive else xp.abs(v)
            entering = (signs == 0) & (score > oracle.l1)
            signs = xp.where(entering, xp.sign(v), signs)
        guess, kept = _newton_step(G, q, penalty, signs, xp)
        if guess is None:
            if bool(xp.all(kept == signs)):
                break  # a singular system: no better guess to make
            # Drop the contradicted features (without re-adding them at once).
            signs, add = kept, False
            continue
        point = oracle.point(guess)
        if point.gap < x.gap and (best is None or point.gap < best.gap):
            best = point
            if point.gap <= oracle.threshold:
                break
        signs, v, add = kept, q - point.Gw, True
    return best


@dataclass
class _GramPoint:
    """A point ``w`` with ``G w``, ``vq = w.(2q - G w)`` and its last known gap.

    A trial step also keeps its change ``dw`` from the momentum point and
    ``d * dw``.
    """

    w: object
    Gw: object
    vq: float = None
    gap: float = None
    dw: object = None
    ddw: object = None


class _GramOracle(Oracle):
    """The elastic net's quadratic in coefficient space, for the kernel.

    Steps soft-threshold in the Jacobi metric ``d = diag(G)``; the curvature along
    a step is ``dw.G dw``, exact; the duality gap is checked every
    :data:`_CHECK_EVERY` iterations, and an exact solve on a settled support
    (:func:`_newton_step`) replaces the iterate when its gap is smaller.
    """

    def __init__(
        self, G, q, yy, penalty, xp, *, max_iter, threshold, report, lasso_form
    ):
        self.G, self.q, self.yy, self.penalty, self.xp = G, q, yy, penalty, xp
        self.l1, self.l2, self.positive = penalty.elastic_net_shape()
        self.lasso_form = lasso_form
        self.max_iter, self.threshold, self.announce = max_iter, threshold, report
        self.q2 = 2.0 * q
        self.d = xp.linalg.diagonal(G)
        self.eps = float(xp.finfo(G.dtype).eps)
        self.bound = gram_rounding_bound(self.d, yy, self.eps)
        self._steps = (None, None)

    def start(self, x, curve):
        """Return the kernel's initial state at ``x`` after the iterations ``curve``."""
        xp = self.xp
        L = _largest_eigenvalue(self.G, 1.0 / xp.sqrt(self.d), xp)
        # The trace of the preconditioned matrix bounds its top eigenvalue.
        L_max = max(float(self.q.shape[0]), 1.0)
        # The support at the last gap check (polishing waits for it to settle).
        self.support = x.w != 0
        return APGState(x=x, y=x, L=L, L_max=L_max, curve=curve, measure=x.gap)

    def point(self, w):
        """Return the point ``w`` with ``G w``, ``vq`` and its duality gap."""
        Gw = self.G @ w
        vq = float(w @ (self.q2 - Gw))
        return _GramPoint(w, Gw, vq, self.gap(w, Gw, vq))

    def gap(self, w, Gw, vq):
        """Return the duality gap at ``w``."""
        v = nearest_subgradient(self.penalty, w, self.q - Gw, self.bound)
        residual_sq = lambda: max(self.yy - vq, 0.0)
        return elastic_net_gap(
            self.penalty,
            w,
            v,
            residual_sq,
            self.xp,
            lasso_form=self.lasso_form,
            enough=self.threshold,
        )

    def value(self, x):
        """Return the objective at ``x``.

        The penalty's value written out (``w >= 0`` holds with ``positive``: the
        iterations clip at 0), as its generic form cost more than the rest here.
        """
        return self.value_at(x, self.yy, self.l1, self.l2, self.xp)

    @staticmethod
    def value_at(x, yy, l1, l2, xp):
        """Return the objective at ``x`` given :meth:`value`'s terms."""
        w = x.w
        h = l1 * float(xp.sum(xp.abs(w))) if l1 else 0.0
        if l2:
            h += 0.5 * l2 * float(w @ w)
        return 0.5 * (yy - x.vq) + h

    def steps(self, L):
        """Return the steps ``1 / (L d)``, their L1 thresholds and L2 shrinkage."""
        if self._steps[0] != L:
            step = 1.0 / (L * self.d)
            self._steps = (L, (step, step * self.l1, 1.0 + step * self.l2))
        return self._steps[1]

    def prox_step(self, state):
        xp, y = self.xp, state.y
        step, thresh, shrink = self.steps(state.L)
        z = y.w - step * (y.Gw - self.q)
        if self.positive:
            w_new = xp.maximum(z - thresh, 0.0)
        else:
            w_new = z - xp.minimum(xp.maximum(z, -thresh), thresh)
        if self.l2:
            w_new = w_new / shrink
        dw = w_new - y.w
        return _GramPoint(w_new, self.G @ w_new, dw=dw, ddw=self.d * dw)

    def restarts(self, state, cand):
        return float(cand.ddw @ (cand.w - state.x.w)) < 0

    def curvature(self, state, cand, beta):
        xp, dw, Gy = self.xp, cand.dw, state.y.Gw
        lhs = float(dw @ (cand.Gw - Gy))
        sq = float(cand.ddw @ dw)
        # Rounding of the two products, which dominates once steps get short.
        noise = 8.0 * self.eps * float(xp.abs(dw) @ (xp.abs(cand.Gw) + xp.abs(Gy)))
        return lhs, sq, noise

    def accept(self, state, cand, beta, n_iter):
        x = state.x
        diff = cand.w - x.w
        new = _GramPoint(cand.w, cand.Gw, float(cand.w @ (self.q2 - cand.Gw)))
        y = _GramPoint(new.w + beta * diff, new.Gw + beta * (new.Gw - x.Gw))
        state.x, state.y, state.done = new, y, False
        if n_iter % _CHECK_EVERY == 0 or n_iter == self.max_iter:
            self.check(state)
        return self.value(state.x)

    def check(self, state):
        """Measure the gap at ``state.x``; polish it by an exact solve if it helps.

        The exact solve on the support is tried once the support has settled, and
        at the end whatever it is: then a finished subproblem is usually exact,
        which often saves the working set one more round.
        """
        x, xp = state.x, self.xp
        state.measure = self.gap(x.w, x.Gw, x.vq)
        state.done = state.measure <= self.threshold
        new_support = x.w != 0
        settled = bool(xp.all(new_support == self.support))
        if state.done or settled:
            polished, _ = _newton_step(self.G, self.q, self.penalty, xp.sign(x.w), xp)
            if polished is not None:
                p = self.point(polished)
                if p.gap < state.measure:
                    # The polished point is this iteration's iterate.
                    state.x, state.y, state.t, state.measure = p, p, 1.0, p.gap
                    state.done = p.gap <= self.threshold
        self.support = new_support

    def report(self, n_iter, state, value):
        self.announce(len(state.curve), value, state.x.w, state.L, state.measure)


class _Report:
    """The printed line and the ``on_iter`` call of each Gram iteration."""

    def __init__(self, on_iter=None, *, verbose=0, ref=1.0, first_iter=0):
        self.on_iter, self.verbose, self.ref = on_iter, verbose, ref
        self.first_iter = first_iter

    def __call__(self, count, value, w, L, gap):
        """Report iteration ``count`` at ``w`` (``L`` None: an exact solve)."""
        if self.verbose:
            k = w.shape[0]
            step = f"step 1/L={1.0 / L:.3e}" if L else "step newton"
            print(
                f"[gd] iter {self.first_iter + count:4d}  objective {value:.8e}  "
                f"{step}  measure {gap / self.ref:.3e} (last check, {k} features)"
            )
        if self.on_iter is not None:
            self.on_iter(w, value)
