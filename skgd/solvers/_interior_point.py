# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Quantile regression with L1 or no penalty, solved exactly by interior points.

The pinball loss with an L1 penalty (or none) is a linear program. This module
solves it by the Frisch-Newton method (Portnoy and Koenker, 1997; R's
``quantreg::rq.fit.fnb``): Mehrotra predictor-corrector steps on the dual of the
quantile program, each one weighted Gram matrix of ``[1, X]`` (the backend's
``weighted_gram``, or ``sparse_gram``: a sparse X is never densified; X is
copied only in float32, or without its rows of weight 0) and a ``(p + 1)``-square
Cholesky solve, whatever the number of samples. The L1 penalty
is the program of the augmented data: each penalized feature ``j`` adds the two
rows ``+e_j`` and ``-e_j`` with target 0 and weight ``alpha c_j`` (``c`` the
penalty weights), whose pinball losses sum to ``alpha c_j |w_j|``; they enter the
Gram matrix as a diagonal, never as rows of X. The intercept is not penalized.
The run stops on the duality gap of the true problem (see
:func:`solve_interior_point`). Which problems it is chosen for is in
:mod:`skgd.solvers._routing`.
"""

import math
from dataclasses import dataclass

import scipy.linalg
from array_api_compat import array_namespace

from skgd._objective import LinearObjective
from skgd.solvers._result import SolverResult

# The fraction of the way to the boundary of the box that a step may go
# (rq.fit.fnb's ``beta``): the iterates stay strictly inside.
_TO_BOUNDARY = 0.9995
# Steps that lower by a tenth neither the smallest duality gap nor the
# program's complementarity before the run gives up (a breakdown).
_PATIENCE = 5
# Complementarity, relative to the objective at zero, at which the program is
# solved to the rounding of its steps: a gap still above ``tol`` there is that
# rounding (of ``X.T theta`` times the coefficients), and the run stops.
_ROUNDING = 1e-14
# Ridge of the Jacobi-scaled Gram matrix where Cholesky finds it singular (a
# constant column, or more features than samples without a penalty).
_RIDGE = 1e-12


@dataclass
class _Point:
    """An interior point of the program, with the slacks of its dual.

    Vectors run over the rows of the augmented data: the ``n`` samples, then the
    ``k`` rows ``+e_j``, then the ``k`` rows ``-e_j``. ``x`` (in ``(0, upper)``)
    is the dual variable of quantile regression, ``s = upper - x``; ``y`` is
    minus the coefficients ``(b, w)``, and ``z - w`` the residual of the dual
    constraint, ``c - A.T y``: the negated residuals of the regression.
    """

    x: object
    s: object
    y: object
    z: object
    w: object

    def complementarity(self):
        """Return ``z.x + w.s``: the program's gap where the point is feasible."""
        return float(self.z @ self.x + self.w @ self.s)


class _QuantileProgram:
    """The linear program ``min c.x`` over ``A x = b``, ``0 <= x <= upper``.

    ``A`` is the transpose of the augmented design ``[1, X]`` (plus the penalty
    rows), held as the operators :meth:`forward` (``A v``) and :meth:`back`
    (``A.T y``); ``c`` is minus the targets (0 on the penalty rows); ``upper`` the
    sample weights ``u`` (summing to 1) and the penalty strengths; ``b = A
    (1 - q) upper``, which makes ``x = (1 - q) upper`` the start.
    """

    def __init__(self, objective):
        backend, X = objective.backend, objective.X
        self.xp = xp = objective.coef_xp
        y = xp.asarray(objective.y, dtype=xp.float64)
        u = xp.asarray(objective.u, dtype=xp.float64)
        if getattr(X, "dtype", xp.float64) != xp.float64:
            # The Gram matrices of the last steps have weights over many orders
            # of magnitude: float32 sums would not resolve them.
            X = X.astype(xp.float64)
        keep = u > 0
        if not xp.all(keep):
            # Rows of weight 0 would pin x to 0: an empty box has no interior.
            (idx,) = xp.nonzero(keep)
            X, y, u = backend.take_rows(X, idx), y[idx], u[idx]
        self.backend, self.X, self.n = backend, X, y.shape[0]
        self.fit_intercept = objective.fit_intercept
        self.n_features = X.shape[1]
        # Constant (or, without an intercept, empty) columns keep w_j = 0, as in
        # every solver: their steps are held at 0.
        self.active = xp.asarray(objective.active, dtype=xp.bool)
        strengths = _l1_strengths(objective.penalty, self.n_features, xp)
        (self.penalized,) = xp.nonzero(strengths > 0)
        self.strengths = strengths
        alpha = strengths[self.penalized]
        self.upper = xp.concatenate([u, alpha, alpha])
        self.c = xp.concatenate([-y, xp.zeros(2 * alpha.shape[0])])
        self.quantile = float(objective.loss.quantile)
        self.b = self.forward((1.0 - self.quantile) * self.upper)
        gram = getattr(backend, "weighted_gram", None) or backend.sparse_gram
        self._gram = gram

    def split(self, v):
        """Return the samples' part and the ``+e_j`` and ``-e_j`` parts of ``v``."""
        n, k = self.n, self.penalized.shape[0]
        return v[:n], v[n : n + k], v[n + k :]

    def forward(self, v):
        """Return ``A v``: ``(sum(v_samples), X.T v_samples + v_plus - v_minus)``."""
        xp = self.xp
        real, plus, minus = self.split(v)
        out = xp.asarray(self.backend.rmatvec(self.X, real), dtype=xp.float64)
        out = xp.array(out, copy=True)
        out[self.penalized] += plus - minus
        if self.fit_intercept:
            return xp.concatenate([[real.sum()], out])
        return out

    def back(self, y):
        """Return ``A.T y``: ``X y_w + y_0`` on the samples, ``+-y_w`` on the rest."""
        xp = self.xp
        y0, yw = (y[0], y[1:]) if self.fit_intercept else (0.0, y)
        real = xp.asarray(self.backend.matvec(self.X, yw), dtype=xp.float64) + y0
        pen = yw[self.penalized]
        return xp.concatenate([real, pen, -pen])

    def normal_solver(self, q):
        """Return a solve of ``(A diag(q) A.T) d = rhs``: one weighted Gram matrix.

        With an intercept the system's first row and column are the sums of
        ``q`` and ``X.T q`` over the samples: its Schur complement is the Gram
        matrix of X centered at the ``q``-weighted means, which the backend builds
        centered block by block (no cancellation for columns with large means).
        """
        xp = self.xp
        real, plus, minus = self.split(q)
        diag = xp.zeros(self.n_features)
        diag[self.penalized] = plus + minus
        if not self.fit_intercept:
            zero = xp.zeros(self.n_features)
            G = xp.asarray(self._gram(self.X, real, zero), dtype=xp.float64)
            return _cholesky_solver(G + xp.diag(diag), self.active)
        total = float(real.sum())
        mean = xp.asarray(self.backend.rmatvec(self.X, real), dtype=xp.float64) / total
        G = xp.asarray(self._gram(self.X, real, mean), dtype=xp.float64)
        inner = _cholesky_solver(G + xp.diag(diag), self.active)

        def solve(rhs):
            dw = inner(rhs[1:] - mean * rhs[0])
            return xp.concatenate([[(rhs[0] - total * (mean @ dw)) / total], dw])

        return solve

    def coefficients(self, y):
        """Return ``(w, b)`` of the regression from the dual variable ``y``."""
        if self.fit_intercept:
            return -y[1:], -float(y[0])
        return -y, 0.0

    def value(self, point):
        """Return the regression's objective at the point's coefficients.

        From the dual constraint's residual ``z - w`` (the negated residuals of
        the augmented regression): ``upper.(pinball of the residuals)``.
        """
        xp = self.xp
        r = point.w - point.z
        q = self.quantile
        return float(self.upper @ xp.maximum(q * r, (q - 1.0) * r))


def _l1_strengths(penalty, n_features, xp):
    """Return the L1 strength of each feature: ``alpha c_j`` (zeros without L1)."""
    l1 = float(getattr(penalty, "l1", 0.0))
    weights = getattr(penalty, "weights", None)
    c = xp.ones(n_features) if weights is None else xp.asarray(weights, dtype=float)
    return l1 * c


def _cholesky_solver(G, active):
    """Return a solve with ``G`` by Cholesky in its Jacobi scaling.

    The scaling makes the factorization free of the columns' scales (1e-3 next to
    1e3); where it still fails (a singular G: more columns than rows without a
    penalty) a relative ridge of :data:`_RIDGE` is added. The solution is 0 on
    the inactive columns.
    """
    xp = array_namespace(G)
    keep = active[:, None] & active[None, :]
    G = xp.where(keep, G, xp.eye(G.shape[0]))
    d = xp.diag(G).copy()
    d = xp.where(d > 0, d, max(float(d.max(initial=0.0)), 1.0))
    scale = xp.where(active, 1.0 / xp.sqrt(d), 0.0)
    S = G * scale[:, None] * scale[None, :] + xp.diag(xp.where(active, 0.0, 1.0))
    try:
        factor = scipy.linalg.cho_factor(S, check_finite=False)
    except scipy.linalg.LinAlgError:
        S = S + _RIDGE * xp.eye(S.shape[0])
        factor = scipy.linalg.cho_factor(S, check_finite=False)

    def solve(rhs):
        d = scale * scipy.linalg.cho_solve(factor, scale * rhs, check_finite=False)
        # One step of iterative refinement: the steps' accuracy is that of
        # these solves, and the last Gram matrices are ill-conditioned.
        fix = scale * (rhs - G @ d)
        return d + scale * scipy.linalg.cho_solve(factor, fix, check_finite=False)

    return solve


def _start(lp):
    """Return the first interior point: ``x = (1 - q) upper`` and a least-squares y.

    ``y`` solves the weighted least-squares problem of the augmented data (the
    penalty rows make it a ridge); ``z`` and ``w`` are the positive and negative
    parts of the residual ``c - A.T y``, both raised by ``delta / upper`` (which
    keeps their difference): every product ``x_i z_i`` and ``s_i w_i`` is then
    at least ``delta`` times ``1 - q`` or ``q``. rq.fit.fnb raises only exact
    zeros; with the samples' bounds (1 / n) far below the penalty rows'
    (alpha), its steps stalled at 100,000 x 50 from the first one.
    """
    xp = lp.xp
    x = (1.0 - lp.quantile) * lp.upper
    y = lp.normal_solver(lp.upper)(lp.forward(lp.upper * lp.c))
    r = lp.c - lp.back(y)
    delta = float(lp.upper @ xp.abs(r)) / r.shape[0]
    delta = max(delta, xp.finfo(xp.float64).tiny) / lp.upper
    z = xp.maximum(r, 0.0) + delta
    return _Point(x, lp.upper - x, y, z, z - r)


def _longest(v, dv):
    """Return the largest step ``t <= 1`` keeping ``v + t dv >= 0``, shortened."""
    xp = array_namespace(v)
    shrinking = dv < 0
    if not xp.any(shrinking):
        return 1.0
    t = float(xp.min(-v[shrinking] / dv[shrinking]))
    return min(_TO_BOUNDARY * t, 1.0)


def _step_lengths(p, dx, dz, dw):
    """Return the primal and dual step lengths (``ds = -dx``)."""
    primal = min(_longest(p.x, dx), _longest(p.s, -dx))
    dual = min(_longest(p.z, dz), _longest(p.w, dw))
    return primal, dual


def _iterate(lp, p):
    """Return the point after one predictor-corrector step (rq.fit.fnb's loop body).

    The affine-scaling step solves the Newton system of the optimality
    conditions (with the residual of ``A x = b``, see below); where its full
    length would leave the box, Mehrotra's corrector re-solves with the same
    matrix for a centred target ``mu``.
    """
    q = 1.0 / (p.z / p.x + p.w / p.s)
    r = p.z - p.w
    solve = lp.normal_solver(q)
    # The steps keep A x = b only to the rounding of their solves, which an
    # ill-conditioned X makes large: the residual is put back into each step.
    infeasible = lp.b - lp.forward(p.x)
    dy = solve(lp.forward(q * r) + infeasible)
    dx = q * (lp.back(dy) - r)
    dz = -p.z * (dx / p.x + 1.0)
    dw = -p.w * (-dx / p.s + 1.0)
    fp, fd = _step_lengths(p, dx, dz, dw)
    if min(fp, fd) < 1.0:
        mu = float(p.z @ p.x + p.w @ p.s)
        g = float((p.z + fd * dz) @ (p.x + fp * dx) + (p.w + fd * dw) @ (p.s - fp * dx))
        mu = mu * (g / mu) ** 3 / (2.0 * p.x.shape[0])
        dxdz, dsdw = dx * dz, -dx * dw
        xinv, sinv = 1.0 / p.x, 1.0 / p.s
        xi = mu * (xinv - sinv)
        dy = solve(lp.forward(q * (r + dxdz - dsdw - xi)) + infeasible)
        dx = q * (lp.back(dy) + xi - r - dxdz + dsdw)
        dz = mu * xinv - p.z - xinv * p.z * dx - dxdz
        dw = mu * sinv - p.w + sinv * p.w * dx - dsdw
        fp, fd = _step_lengths(p, dx, dz, dw)
    return _Point(
        p.x + fp * dx, p.s - fp * dx, p.y + fd * dy, p.z + fd * dz, p.w + fd * dw
    )


def _certificate(objective, lp, point):
    """Return ``(w, b, gap)``: the coefficients and the true problem's duality gap.

    The dual point of quantile regression is ``theta = x - (1 - q) u`` on the
    samples (in the loss's box ``[(q - 1) u, q u]``). With a penalty that has a
    duality gap, :meth:`~skgd._objective.LinearObjective.duality_gap` makes it
    feasible (centred for the intercept, scaled into the L1 ball) and bounds the
    suboptimality of ``(w, b)``. Without one (no penalty, or a feature of
    weight 0) see :func:`_complementarity`.
    """
    xp = lp.xp
    w, b = lp.coefficients(point.y)
    c = objective.offset(w, b)
    raw = objective.raw(w, c)
    theta = point.x[: lp.n] - (1.0 - lp.quantile) * lp.upper[: lp.n]
    if lp.n < objective.n_samples:
        full = xp.zeros(objective.n_samples)
        full[objective.u > 0] = theta
        theta = full
    if objective.fit_intercept:
        # The program keeps sum(theta) = 0 to rounding; exact for the gap.
        theta = theta - objective.u * xp.sum(theta)
    g = -theta
    grad_w, _ = objective.backprop(g)
    if objective.has_duality_gap:
        return w, b, objective.duality_gap(w, raw, grad_w, g)
    return w, b, _complementarity(objective, lp, w, raw, theta, -grad_w)


def _complementarity(objective, lp, w, raw, theta, v):
    """Return the gap ``P(w) - D(theta)`` where unpenalized features have no dual.

    With ``sum(theta) = 0`` and ``v = X_c.T theta`` it is the loss's Fenchel-Young
    sum ``sum_i u_i rho(r_i) - r_i theta_i`` (each term non-negative in the box)
    plus ``alpha_j |w_j| - w_j v_j`` over the penalized features. On the others
    ``v_j = 0`` is the program's own constraint, met to the rounding of its
    steps; that rounding moves the lower bound ``y.theta - w*.v`` by ``w*.v``,
    counted as ``|w_j v_j|`` (the coefficients standing in for the optimum's).
    """
    xp = lp.xp
    r = objective.y - raw
    quantile = lp.quantile
    u = objective.u
    loss = xp.sum(u * xp.maximum(quantile * r, (quantile - 1.0) * r) - r * theta)
    terms = lp.strengths * xp.abs(w) - w * v
    free = lp.strengths <= 0
    terms = xp.where(free, xp.abs(w * v), terms)
    return max(float(loss + xp.sum(terms)), 0.0)


def _float64_objective(objective):
    """Return ``objective`` in float64 (itself if it is), for the certificate."""
    xp = objective.coef_xp
    if objective.dtype == xp.float64:
        return objective
    X = objective.X.astype(xp.float64)
    y = xp.asarray(objective.y, dtype=xp.float64)
    return LinearObjective(
        objective.backend,
        X,
        y,
        objective.loss,
        objective.penalty,
        sample_weight=xp.asarray(objective.u, dtype=xp.float64),
        fit_intercept=objective.fit_intercept,
    )


def solve_interior_point(objective, w0, c0, *, max_iter, tol, verbose=0, callback=None):
    """Minimise the pinball loss with an L1 penalty (or none) by interior points.

    **Steps.** Frisch-Newton predictor-corrector steps on the dual of the
    quantile program of the augmented data (see the module docstring), from
    rq.fit.fnb's start: the interior method needs no start of its own, so ``w0``
    and ``c0`` are not used. Each step costs one weighted Gram matrix of X and a
    few products with X and X.T. float32 data are solved in float64 (a copy of
    X).

    **Stopping.** After each step the duality gap of the true problem is made at
    the coefficients (see :func:`_certificate`; two passes over X): the run
    stops when that, relative to the objective at zero, is below ``tol``, or
    when the program's own gap no longer falls (rounding). The result is the
    step of the smallest gap.

    Parameters
    ----------
    objective : LinearObjective
        The problem: the pinball loss, an L1 penalty (with weights or not) or
        none, one output, numpy or scipy.sparse data.
    w0, c0 : array of shape (n_features,), float
        Not used (see above).
    max_iter : int
        The most interior-point steps.
    tol : float
        Stopping tolerance, as above.
    verbose : int
        Print the gaps at each step if positive.
    callback : callable or None
        Called as ``callback(n_iter, w, value)`` after each step.

    Returns
    -------
    result : SolverResult
        With ``extra["measure"]`` the relative duality gap of the true problem
        and ``extra["offset"]`` the centered offset.
    """
    exact = _float64_objective(objective)
    lp = _QuantileProgram(exact)
    ref = exact.reference_value()
    threshold = tol * ref
    point, curve, n_iter = _start(lp), [], 0
    stalled, smallest = 0, math.inf
    w, b, measure = *lp.coefficients(point.y), math.inf
    while n_iter < max_iter:
        point = _iterate(lp, point)
        n_iter += 1
        curve.append(lp.value(point))
        if callback is not None:
            callback(n_iter, lp.coefficients(point.y)[0], curve[-1])
        found = _certificate(exact, lp, point)
        spread = point.complementarity()
        progress = found[2] < 0.9 * measure or spread < 0.9 * smallest
        stalled = 0 if progress else stalled + 1
        smallest = min(smallest, spread)
        if found[2] <= measure:
            w, b, measure = found
        if verbose:
            print(
                f"[interior-point] iter {n_iter:3d}  relative duality gap "
                f"{found[2] / ref:.3e}, complementarity {spread / ref:.3e}"
            )
        solved = spread <= _ROUNDING * ref
        if measure <= threshold or solved or stalled >= _PATIENCE:
            break
    if curve:
        curve[-1] = exact.value(w, exact.raw(w, exact.offset(w, b)))
    w = objective.coef_xp.asarray(w, dtype=objective.dtype)
    return SolverResult(
        w,
        float(b),
        n_iter,
        bool(measure <= threshold),
        curve,
        {"measure": measure / ref, "offset": objective.offset(w, b)},
    )
