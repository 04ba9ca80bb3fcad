# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The elastic net on a small Gram matrix, solved in coefficient space.

This is the inner solver of the working-set strategy (:mod:`skgd.solvers._working_set`)
for the squared loss: it sees only ``G`` (``k x k``), ``q`` and ``y.T U y``, never X,
so each iteration costs ``O(k**2)`` and a couple of dozen array calls. It knows
nothing of working sets, intercepts or backends.
"""

import math
from contextlib import nullcontext

from array_api_compat import device, is_numpy_namespace

from skgd._backend._dense import serial_blas
from skgd._gaps import quadratic_gap

# The duality gap costs about as much as an iteration: it is checked every few.
_CHECK_EVERY = 4
# Rounds of the active-set prediction before the first iteration.
_ACTIVE_SET_ROUNDS = 3
# Below this size BLAS runs these products on one thread anyway.
_SERIAL_MIN = 32


def _dual_gap(penalty, w, v, yy, vq, xp):
    """Return the duality gap at ``w`` with ``v = q - G w`` and ``vq = w.(2q - Gw)``.

    :func:`skgd._gaps.quadratic_gap`, with the squared residual norm ``yy - vq``
    (needed only when the dual point needs rescaling: pure L1). The scaling and
    the Fenchel-Young terms are those of the penalty's ``dual_scale`` and
    ``fenchel_young``, written out for the elastic net because this runs every few
    iterations on small vectors, where the call overhead is the cost.
    """
    l1, l2 = penalty.l1, penalty.l2
    absw = xp.abs(w)
    if l2:
        # sign(w) v - l1; where w == 0 the term is z**2 / (2 l2) alone.
        t = xp.where(w > 0, v, -v) - l1
        z = xp.maximum(xp.abs(v) - l1, 0.0)
        on = (w != 0) & (t >= 0)
        diff = l2 * absw - t
        term = xp.where(
            on,
            diff * diff,
            2.0 * l2 * absw * xp.maximum(-t, 0.0) + (l2 * absw) ** 2 + z * z,
        )
        # With an L2 part the dual point needs no scaling (k = 1).
        return quadratic_gap(1.0, float(xp.sum(term)) / (2.0 * l2), None)
    vmax = float(xp.max(xp.abs(v))) if v.shape[0] else 0.0
    k = 1.0 if vmax <= l1 else l1 / vmax
    # |w_j| (l1 - sign(w_j) k v_j), each term non-negative as |k v_j| <= l1.
    fy = float(xp.sum(xp.maximum(l1 * absw - k * (w * v), 0.0)))
    return quadratic_gap(k, fy, lambda: max(yy - vq, 0.0))


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
    if penalty.l2:
        A = A + penalty.l2 * xp.eye(m, dtype=G.dtype, device=device(G))
    try:
        z = xp.linalg.solve(A, xp.take(q, idx) - penalty.l1 * s)
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
):
    r"""Minimise ``1/2 (yy - 2 q.w + w.G w) + h(w)`` by FISTA in the Jacobi metric.

    ``h`` is an elastic-net penalty (``l1 ||w||_1 + l2/2 ||w||_2^2``) and ``G`` a
    positive semi-definite matrix with a positive diagonal. The iteration is that of
    :func:`skgd.solvers._gd._fista` specialised to a quadratic in coefficient space:
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
        An elastic-net-family penalty with ``l1 > 0`` or ``l2 > 0``.
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

    Returns
    -------
    w : array of shape (k,)
        The last iterate (or polished point).
    gap : float
        Its duality gap.
    curve : list of float
        The objective after each iteration.
    """
    # Small Gram problems stay on the calling threads; larger ones on one BLAS
    # thread (see serial_blas).
    context = nullcontext() if q.shape[0] < _SERIAL_MIN else serial_blas()
    with context:
        return _fista_gram(
            G,
            q,
            yy,
            penalty,
            w,
            threshold,
            max_iter,
            xp,
            on_iter,
            verbose,
            ref,
            first_iter,
        )


def _fista_gram(
    G, q, yy, penalty, w, threshold, max_iter, xp, on_iter, verbose, ref, first_iter
):
    """Run the iteration of :func:`solve_gram_enet` (see there)."""
    l1, l2 = penalty.l1, penalty.l2
    q2 = 2.0 * q
    curve = []
    k = q.shape[0]

    def record(w, vq, gap, L):
        """Append the objective at ``w`` to the curve; report the iteration."""
        value = 0.5 * (yy - vq) + float(penalty.value(w))
        curve.append(value)
        if verbose:
            step = f"step 1/L={1.0 / L:.3e}" if L else "step newton"
            print(
                f"[gd] iter {first_iter + len(curve):4d}  objective {value:.8e}  "
                f"{step}  measure {gap / ref:.3e} (last check, {k} features)"
            )
        if on_iter is not None:
            on_iter(w, value)

    def evaluate(w):
        """Return ``G w``, ``w.(2q - G w)`` and the duality gap at ``w``."""
        Gw = G @ w
        vq = float(w @ (q2 - Gw))
        return Gw, vq, _dual_gap(penalty, w, q - Gw, yy, vq, xp)

    Gw, vq, gap = evaluate(w)
    if gap <= threshold or max_iter <= 0:
        return w, gap, curve
    # Predict the support: the current one, plus the features whose optimality
    # condition fails, entering with the sign that decreases the objective; then
    # a few rounds of a primal active-set method (drop the features whose sign the
    # solve contradicts, add those that still violate their condition). Each round
    # is one small solve; the first candidate whose gap is small enough ends it.
    signs = xp.sign(w)
    v = q - Gw
    best, add = None, True
    for _ in range(_ACTIVE_SET_ROUNDS):
        if add:
            entering = (signs == 0) & (xp.abs(v) > l1)
            signs = xp.where(entering, xp.sign(v), signs)
        guess, kept = _newton_step(G, q, penalty, signs, xp)
        if guess is None:
            if bool(xp.all(kept == signs)):
                break  # a singular system: no better guess to make
            # Drop the contradicted features (without re-adding them at once).
            signs, add = kept, False
            continue
        Gg, vq_g, gap_g = evaluate(guess)
        if gap_g < gap and (best is None or gap_g < best[3]):
            best = (guess, Gg, vq_g, gap_g)
            if gap_g <= threshold:
                break
        signs, v, add = kept, q - Gg, True
    if best is not None:
        w, Gw, vq, gap = best
        record(w, vq, gap, None)
        if gap <= threshold or max_iter <= 1:
            return w, gap, curve

    d = xp.linalg.diagonal(G)
    eps = float(xp.finfo(G.dtype).eps)
    L = _largest_eigenvalue(G, 1.0 / xp.sqrt(d), xp)
    # The trace of the preconditioned matrix bounds its top eigenvalue.
    L_max = max(float(k), 1.0)

    def steps(L):
        step = 1.0 / (L * d)
        return step, step * l1, 1.0 + step * l2

    step, thresh, shrink = steps(L)
    y, Gy = w, Gw
    t = 1.0
    support = w != 0
    for n_iter in range(len(curve) + 1, max_iter + 1):
        while True:
            z = y - step * (Gy - q)
            w_new = z - xp.minimum(xp.maximum(z, -thresh), thresh)
            if l2:
                w_new = w_new / shrink
            Gw_new = G @ w_new
            dw = w_new - y
            ddw = d * dw
            lhs = float(dw @ (Gw_new - Gy))
            sq = float(ddw @ dw)
            # Rounding of the two products, which dominates once steps get short.
            noise = 8.0 * eps * float(xp.abs(dw) @ (xp.abs(Gw_new) + xp.abs(Gy)))
            if lhs <= L * sq * (1.0 + 1e-6) + noise or not sq > 0 or L >= L_max:
                break
            L = min(max(1.5 * L, 1.1 * lhs / sq), L_max)
            step, thresh, shrink = steps(L)
        diff = w_new - w
        vq = float(w_new @ (q2 - Gw_new))
        # Restart when the momentum points against the step just taken.
        if float(ddw @ diff) < 0:
            t = 1.0
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        t = t_next
        y = w_new + beta * diff
        Gy = Gw_new + beta * (Gw_new - Gw)
        w, Gw = w_new, Gw_new
        done = False
        if n_iter % _CHECK_EVERY == 0 or n_iter == max_iter:
            gap = _dual_gap(penalty, w, q - Gw, yy, vq, xp)
            done = gap <= threshold
            new_support = w != 0
            # The exact solve on the support is tried once the support has settled,
            # and at the end whatever it is: then a finished subproblem is usually
            # exact, which often saves the working set one more round.
            settled = support is not None and bool(xp.all(new_support == support))
            if done or settled:
                polished, _ = _newton_step(G, q, penalty, xp.sign(w), xp)
                if polished is not None:
                    Gp, vq_p, gap_p = evaluate(polished)
                    if gap_p < gap:
                        # The polished point is this iteration's iterate.
                        w, Gw, y, Gy, t, gap = polished, Gp, polished, Gp, 1.0, gap_p
                        vq = vq_p
                        done = gap <= threshold
            support = new_support
        record(w, vq, gap, L)
        if done:
            break
    return w, gap, curve
