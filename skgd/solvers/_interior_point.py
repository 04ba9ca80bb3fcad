# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Sums of pinball losses with an elastic-net penalty, solved by interior points.

The pinball loss with an L1 penalty (or none) is a linear program, and so are
the hinge and epsilon-insensitive losses, which are sums of pinball losses of
shifted targets at the quantiles 0 and 1 (:func:`pinball_pieces`: one row of
the program per piece and sample; the dual box of each row is its own). This
module solves them by the Frisch-Newton method (Portnoy and Koenker, 1997; R's
``quantreg::rq.fit.fnb``): Mehrotra predictor-corrector steps on the dual of the
quantile program, each one weighted Gram matrix of ``[1, X]`` (the backend's
``weighted_gram``, or ``sparse_gram``: a sparse X is never densified; X is
copied only in float32, or without its rows of weight 0) and a ``(p + 1)``-square
Cholesky solve, whatever the number of samples. The L1 penalty
is the program of the augmented data: each penalized feature ``j`` adds the two
rows ``+e_j`` and ``-e_j`` with target 0 and weight ``alpha c_j`` (``c`` the
penalty weights), whose pinball losses sum to ``alpha c_j |w_j|``; they enter the
Gram matrix as a diagonal, never as rows of X. With the constraint ``w >= 0``
each feature has one such row, an exact penalty of the constraint
(:func:`_penalty_rows`). An L2 part makes the program
quadratic: ``l2 c_j`` joins that diagonal, and ``l2 c_j w_j`` the constraint's
residual. The intercept is not penalized. The run stops on the duality gap of
the true problem (see :func:`solve_interior_point`). Which problems it is
chosen for is in :mod:`skgd.solvers._routing`.

On Dask data the vectors over the samples (the interior point, the weights of
each step) are Dask arrays with X's row chunks, persisted once per step, and the
coefficient-sized ones numpy on the client; only the latter, and scalars, come
back. A step costs three reductions over the row chunks (the backend's
``row_terms`` and ``to_floats``): the weighted Gram matrix with the predictor's
right-hand side; the step lengths with the dot products of Mehrotra's centring
and the two products whose combination is the corrector's right-hand side (it is
linear in the centring parameter); the corrector's step lengths; plus one for
the objective and complementarity at the new point (and the point's persist,
which does not wait on a distributed cluster), and those of the duality gap (a
few: :func:`_corrected_gap`'s corrections without a penalty), made only near
``tol`` (:data:`_GATE`). The step is the same as on numpy, to rounding: the
Gram matrix comes centered at the last step's weighted means and is moved to
this step's by a rank-one correction. That is what exact costs there: a step's
length is a reduction over the samples that its direction needs first, and the
corrector's direction needs the predictor's lengths, so three round trips is
the least for Mehrotra's step (one compute per step would take the plain
affine step, with more steps). Projecting the dual point of ``"gd"`` onto the
unpenalized features' constraints (a small least squares on the client) would
give a gap, but ``"gd"``'s smoothed steps without a penalty take ``O(1 /
tol)`` iterations to make it small.
"""

import math
from dataclasses import dataclass

import scipy.linalg
from array_api_compat import array_namespace

from skgd._gaps import _gap_at, _interior_step, _rounding
from skgd._objective import LinearObjective
from skgd.losses import EpsilonInsensitive, Hinge, Pinball
from skgd.solvers._result import SolverResult

# The fraction of the way to the boundary of the box that a step may go
# (rq.fit.fnb's ``beta``): the iterates stay strictly inside.
_TO_BOUNDARY = 0.9995
# Steps that lower by a tenth neither the smallest duality gap nor the
# program's complementarity before the run gives up (a breakdown).
_PATIENCE = 10
# Complementarity, relative to the objective at zero, at which the program is
# solved to the rounding of its steps: a gap still above ``tol`` there is that
# rounding (of ``X.T theta`` times the coefficients), and the run stops.
_ROUNDING = 1e-14
# Where the pinball quantile is 0 or 1 (the hinge's and epsilon-insensitive
# loss's pieces) the start ``x = (1 - q) upper`` is a corner of the box: it is
# moved this far into the box. Its dual point ``theta`` is then near 0, as the
# optimum's is on every sample beyond the hinge's margin or inside the tube.
# Measured at defaults (hinge, L1 1e-4) on standardized digits, one class
# against the rest: 19-31 steps at 0.01, 22-38 at 0.001 and 15-48, 6 of 10
# stalled, from the box's centre.
_CORNER = 0.01
# The proximal term ``sum_j rho_j dy_j**2 / 2`` of every step, ``rho_j`` this
# share of feature j's diagonal entry in the first normal matrix (the weighted
# sum of squares of its column): it bounds the steps of the coefficients along
# directions on which only samples at a corner of the box depend (beyond the
# margin), which otherwise grow without bound as those samples' weights vanish
# (the gap of digits, hinge without a penalty, one class against the rest,
# rose from 8e-4 to 1e6 with 1e5-sized coefficients; with it, 8.6e-5 at the
# default tol, 2e-9 at 1e-8). It does not move the optimum (the residuals of
# the steps are the true program's), but it slows the directions of smaller
# curvature: 1e-10 and 1e-12 stalled quantile regression on two columns 1e-6
# apart near a gap of 4e-3.
_PROXIMAL = 1e-14
# A coefficient whose penalty rows' dual ``|X_j.theta|`` stays below ``alpha
# c_j`` by this share is 0 at the optimum: the result sets it to 0 exactly.
_SLACK = 1e-3
# Ridge of the Jacobi-scaled Gram matrix where Cholesky finds it singular (a
# constant column, or more features than samples without a penalty).
_RIDGE = 1e-12
# On Dask the duality gap (several round trips through the scheduler) is made
# only where the complementarity ``z.x + w.s`` is within this factor of tol:
# the gap of the true problem stayed below it at every step measured (quantile
# regression, epsilon-insensitive and hinge fits of 400 x 5, with no penalty
# and L1 with a weight of 0: complementarity 1.2 to 8.2 times the gap), so the
# gate costs no step; it spares most steps' gaps.
_GATE = 30.0
# The most corrections of the dual point of a fit without a penalty (see
# _corrected_gap): each one refines the last, whose solve rounds on nearly
# collinear columns (scaled 1e-3 to 1e3) to 5-20 times the bound it must meet.
_CORRECTIONS = 3


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
        """Return ``z.x + w.s`` (lazy on Dask): the program's gap where feasible."""
        return self.z @ self.x + self.w @ self.s


class _QuantileProgram:
    """The program ``min c.x`` over ``A x = b``, ``0 <= x <= upper`` (see below).

    ``A`` is the transpose of the augmented design ``[1, X]`` (plus the penalty
    rows), held as the operators :meth:`forward` (``A v``) and :meth:`back`
    (``A.T y``); ``c`` is minus the targets (0 on the penalty rows); ``upper`` the
    sample weights ``u`` (summing to 1) and the penalty strengths; ``b = A
    (1 - q) upper``, which makes ``x = (1 - q) upper`` feasible. The samples'
    rows come once per pinball piece of the loss, with that piece's target and
    quantile ``q`` (per row); the penalty rows' are those of
    :func:`_penalty_rows`. With an L2 part
    (``ridge``, per feature) it is the quadratic program whose constraint is
    ``A x + ridge * w = b`` (see :meth:`infeasibility`).
    """

    def __init__(self, objective):
        backend, X = objective.backend, objective.X
        # Coefficient-sized vectors in coef_xp; the rows' (samples and penalty
        # rows) in the samples' namespace: Dask arrays on Dask data.
        self.xp = xp = objective.coef_xp
        self.sxp = sxp = objective.xp
        y = sxp.asarray(objective.y, dtype=sxp.float64)
        u = sxp.asarray(objective.u, dtype=sxp.float64)
        if getattr(X, "dtype", xp.float64) != xp.float64:
            # The Gram matrices of the last steps have weights over many orders
            # of magnitude: float32 sums would not resolve them.
            X = X.astype(xp.float64)
        keep = u > 0
        if not bool(sxp.all(keep)):
            # Rows of weight 0 would pin x to 0: an empty box has no interior.
            X, y, u = _kept_rows(backend, keep, X, y, u)
        self.backend, self.X, self.n = backend, X, y.shape[0]
        # (Dask's lazy product: the point's persist computes it with the rest.)
        self._matvec = getattr(backend, "lazy_matvec", backend.matvec)
        self.fit_intercept = objective.fit_intercept
        self.n_features = X.shape[1]
        # Constant (or, without an intercept, empty) columns keep w_j = 0, as in
        # every solver: their steps are held at 0.
        self.active = xp.asarray(objective.active, dtype=xp.bool)
        strengths, self.ridge = _strengths(objective.penalty, self.n_features, xp)
        self.strengths = strengths
        pieces = pinball_pieces(objective.loss, y)
        self.copies = len(pieces)
        self.positive = bool(getattr(objective.penalty, "positive", False))
        rows = _penalty_rows(self, u, strengths)
        (self.plus, self.minus), (upper, quantile) = rows[:2], rows[2:]
        self.penalized = self.minus
        self.upper = self.rows([u] * self.copies, upper)
        targets = [-t for t, _ in pieces]
        self.c = self.rows(targets, xp.zeros(upper.shape[0]))
        self.quantile = self.rows([q for _, q in pieces], quantile)
        # The rows that start _CORNER into their box (see _start): the pieces
        # at the quantiles 0 and 1, and the rows of the constraint w >= 0.
        corner = (quantile <= 0.0) | (quantile >= 1.0) | self.positive
        self.corner = self.rows([(q <= 0.0) | (q >= 1.0) for _, q in pieces], corner)
        # (On Dask each step reads them: computed once, not at every step.)
        self.upper, self.c, self.quantile, self.corner = backend.persist(
            self.upper, self.c, self.quantile, self.corner
        )
        self.b = self.forward((1.0 - self.quantile) * self.upper)
        gram = getattr(backend, "weighted_gram", None) or backend.sparse_gram
        self._gram = gram
        # The proximal term of the steps (see _PROXIMAL), set by _start.
        self.shift = 0.0
        if self.fit_intercept and hasattr(backend, "row_terms"):
            # The centre of the Gram matrices of terms(): the last weights'
            # column means, the samples' at first.
            mean = backend.weighted_mean(X, u)
            self.centre = xp.asarray(mean, dtype=xp.float64)

    def rows(self, samples, penalty_rows):
        """Return the vector of the augmented rows: the samples' parts, then the rest.

        ``samples`` holds one sample-sized vector per pinball piece, in the
        samples' namespace; ``penalty_rows`` is coefficient-sized (numpy).
        """
        sxp = self.sxp
        tail = sxp.asarray(penalty_rows, dtype=samples[0].dtype)
        return sxp.concat([*samples, tail])

    def split(self, v):
        """Return the samples' part and the ``+e_j`` and ``-e_j`` parts of ``v``.

        The samples' part sums the copies of each sample (one per pinball piece);
        the other two are coefficient-sized, brought to the client (one compute
        on Dask, with those of ``more``).
        """
        real, tails = self.parts(v)
        plus, minus = self.small(*tails)
        return real, plus, minus

    def parts(self, v):
        """Return the samples' part of ``v`` and its two other parts, lazy on Dask."""
        n, k = self.n * self.copies, self.plus.shape[0]
        real = v[: self.n]
        for copy in range(1, self.copies):
            real = real + v[copy * self.n : (copy + 1) * self.n]
        return real, (v[n : n + k], v[n + k :])

    def small(self, *vectors):
        """Return coefficient-sized row vectors as numpy (one compute on Dask)."""
        to_coefs = getattr(self.backend, "to_coefs", None)
        if to_coefs is None:
            return vectors
        return to_coefs(*vectors)

    def forward(self, v):
        """Return ``A v``: ``(sum(v_samples), X.T v_samples + v_plus - v_minus)``."""
        real, plus, minus = self.split(v)
        return self._forward_of(*self.backend.rmatvec_sum(self.X, real), plus, minus)

    def _forward_of(self, product, total, plus, minus):
        """Return ``A v`` from ``X.T v_samples``, ``sum(v_samples)`` and the rest."""
        xp = self.xp
        out = xp.array(xp.asarray(product, dtype=xp.float64), copy=True)
        out[self.plus] += plus
        out[self.minus] -= minus
        if self.fit_intercept:
            return xp.concatenate([[float(total)], out])
        return out

    def back(self, y):
        """Return ``A.T y``: ``X y_w + y_0`` on the samples, ``+-y_w`` on the rest."""
        y0, yw = (y[0], y[1:]) if self.fit_intercept else (0.0, y)
        real = self._matvec(self.X, yw) + y0
        return self.rows(
            [real] * self.copies, self.xp.concatenate([yw[self.plus], -yw[self.minus]])
        )

    def ridge_part(self, y):
        """Return ``l2 P y``: the L2 part's term of the constraint ``A x = b``."""
        xp = self.xp
        if self.fit_intercept:
            return xp.concatenate([[0.0], self.ridge * y[1:]])
        return self.ridge * y

    def infeasibility(self, point):
        """Return ``b - A x - l2 P y``: the residual of the program's constraint."""
        return self.b - self.forward(point.x) - self.ridge_part(point.y)

    def normal_solver(self, q):
        """Return a solve of ``(A diag(q) A.T) d = rhs``: one weighted Gram matrix.

        With an intercept the system's first row and column are the sums of
        ``q`` and ``X.T q`` over the samples: its Schur complement is the Gram
        matrix of X centered at the ``q``-weighted means, which the backend builds
        centered block by block (no cancellation for columns with large means).
        """
        xp = self.xp
        real, plus, minus = self.split(q)
        if not self.fit_intercept:
            zero = xp.zeros(self.n_features)
            G = xp.asarray(self._gram(self.X, real, zero), dtype=xp.float64)
            return self._solver_of(G, None, None, plus, minus)
        mean, total = self.backend.rmatvec_sum(self.X, real)
        total = float(total)
        mean = xp.asarray(mean, dtype=xp.float64) / total
        G = xp.asarray(self._gram(self.X, real, mean), dtype=xp.float64)
        return self._solver_of(G, total, mean, plus, minus)

    def _solver_of(self, G, total, mean, plus, minus):
        """Return the solve of the normal system from its weighted Gram matrix G.

        ``G`` is centered at ``mean``, the weights' column means, with an
        intercept (``total`` the weights' sum); the penalty rows' weights
        ``plus`` and ``minus`` and the L2 part join its diagonal.
        """
        xp = self.xp
        diag = xp.array(self.ridge, copy=True)
        diag[self.plus] += plus
        diag[self.minus] += minus
        inner = _cholesky_solver(G + xp.diag(diag), self.active, self.shift)
        if not self.fit_intercept:
            return inner

        def solve(rhs):
            dw = inner(rhs[1:] - mean * rhs[0])
            return xp.concatenate([[(rhs[0] - total * (mean @ dw)) / total], dw])

        solve.diagonal = inner.diagonal
        return solve

    def terms(self, vectors, small=(), weights=None):
        """Return ``([A v, ...], small, solve)`` from one pass over X.

        ``small`` are 0-d values (lazy on Dask), returned as floats; ``solve`` is
        :meth:`normal_solver` of ``weights`` (None without). On a backend with
        ``row_terms`` (Dask) everything comes from one reduction over the row
        chunks, one ``compute``: the products ``X.T v``, the sums and the
        weighted Gram matrix, centered at the last weights' column means and
        recentered at these weights' (a rank-one correction, as the Newton
        steps' on Dask); the Gram matrix centered at a point near the means
        keeps the correction small.
        """
        row_terms = getattr(self.backend, "row_terms", None)
        if row_terms is None:
            forwards = [self.forward(v) for v in vectors]
            small = self.backend.to_floats(*small) if small else []
            solve = None if weights is None else self.normal_solver(weights)
            return forwards, small, solve
        reals, tails = [], []
        for v in [*vectors, *([] if weights is None else [weights])]:
            real, parts = self.parts(v)
            reals.append(real)
            tails += parts
        h = reals.pop() if weights is not None else None
        centre = self.centre if self.fit_intercept else self.xp.zeros(self.n_features)
        sums, tails, small, gram = row_terms(self.X, reals, tails, small, h, centre)
        forwards = [
            self._forward_of(product, total, *tails[2 * i : 2 * i + 2])
            for i, (product, total) in enumerate(sums)
        ]
        if h is None:
            return forwards, small, None
        total, a, G = gram
        total = float(total)
        if not self.fit_intercept:
            return forwards, small, self._solver_of(G, None, None, *tails[-2:])
        mean = centre + a / total
        self.centre = mean
        G = G - self.xp.outer(a, a) / total
        return forwards, small, self._solver_of(G, total, mean, *tails[-2:])

    def coefficients(self, y):
        """Return ``(w, b)`` of the regression from the dual variable ``y``.

        With the constraint ``w >= 0`` (which the program holds as a penalty,
        see :func:`_penalty_rows`) a coefficient below 0 is put on it.
        """
        w, b = (-y[1:], -float(y[0])) if self.fit_intercept else (-y, 0.0)
        return (self.xp.maximum(w, 0.0) if self.positive else w), b

    def value(self, point):
        """Return the objective at the point's coefficients and its complementarity.

        The objective from the dual constraint's residual ``z - w`` (the negated
        residuals of the augmented regression): ``upper.(pinball of the
        residuals)``; both in one compute on Dask.
        """
        sxp = self.sxp
        r = point.w - point.z
        q = self.quantile
        w = self.coefficients(point.y)[0]
        ridge = 0.5 * float(self.ridge @ (w * w))
        pinball = self.upper @ sxp.maximum(q * r, (q - 1.0) * r)
        value, spread = self.backend.to_floats(pinball, point.complementarity())
        return value + ridge, spread

    def dual_point(self, point):
        """Return ``theta``: the samples' ``x - (1 - q) u``, summed over the copies."""
        n = self.n
        theta = point.x[:n] - (1.0 - self.quantile[:n]) * self.upper[:n]
        for copy in range(1, self.copies):
            part = slice(copy * n, (copy + 1) * n)
            theta = (
                theta + point.x[part] - (1.0 - self.quantile[part]) * self.upper[part]
            )
        return theta


def _kept_rows(backend, keep, X, *vectors):
    """Return X and the sample-sized ``vectors`` without the rows where not ``keep``."""
    take_mask = getattr(backend, "take_mask", None)
    if take_mask is not None:
        return take_mask(keep, X, *vectors)
    (idx,) = keep.nonzero()
    return backend.take_rows(X, idx), *(v[idx] for v in vectors)


def _penalty_rows(lp, u, strengths):
    """Return ``(plus, minus, upper, quantile)``: the rows of the penalty.

    ``plus`` and ``minus`` are the features of the ``+e_j`` and ``-e_j`` rows,
    ``upper`` and ``quantile`` the rows' bounds and quantiles (the ``+e_j``
    rows first).

    Without the constraint ``w >= 0``, each penalized feature has both rows,
    of bound ``alpha c_j`` and quantile 1/2: their pinball losses sum to
    ``alpha c_j |w_j|``, and the middle quantile starts them at the centre of
    their box. With it, every feature has one ``-e_j`` row of bound ``alpha
    c_j + M_j`` and quantile ``alpha c_j / (alpha c_j + M_j)``: its pinball
    loss is ``alpha c_j w_j`` for ``w_j >= 0`` and ``M_j |w_j|`` below, an
    exact penalty of the constraint where ``M_j`` exceeds its multiplier,
    ``|alpha c_j - X_j.theta|`` at most: ``M_j`` is twice the bound
    ``copies * sum_i u_i |X_ij|`` of ``|X_j.theta|`` over the loss's box, plus
    ``alpha c_j`` (1 for an empty column).
    """
    xp = lp.xp
    if not lp.positive:
        (plus,) = xp.nonzero(strengths > 0)
        alpha = strengths[plus]
        half = xp.full(2 * plus.shape[0], 0.5)
        return plus, plus, xp.concatenate([alpha, alpha]), half
    absolute = abs(lp.X)
    size = xp.asarray(lp.backend.rmatvec(absolute, u), dtype=xp.float64)
    big = 2.0 * lp.copies * size + strengths
    big = xp.where(big > 0, big, 1.0)
    upper = strengths + big
    minus = xp.arange(lp.n_features)
    return minus[:0], minus, upper, strengths / upper


def _strengths(penalty, n_features, xp):
    """Return the L1 and L2 strengths of each feature: ``alpha c_j`` times each."""
    l1 = float(getattr(penalty, "l1", 0.0))
    l2 = float(getattr(penalty, "l2", 0.0))
    weights = getattr(penalty, "weights", None)
    c = xp.ones(n_features) if weights is None else xp.asarray(weights, dtype=float)
    return l1 * c, l2 * c


# The losses that are sums of pinball losses (see pinball_pieces).
_PINBALL_SUMS = (Pinball, Hinge, EpsilonInsensitive)


def is_pinball_sum(loss):
    """Return whether :func:`pinball_pieces` writes ``loss`` as pinball losses."""
    return isinstance(loss, _PINBALL_SUMS)


def pinball_pieces(loss, y):
    """Return ``[(t, q), ...]``: the pinball losses that sum to ``loss`` at ``y``.

    ``loss(y_i, f) = sum over the pieces of rho_{q_i}(t_i - f)``, or None where
    ``loss`` is not such a sum. The pinball loss is one piece. The hinge loss
    of a label ``y_i`` in {-1, +1} is one, with the target ``y_i`` and the
    quantile 1 for ``+1`` and 0 for ``-1``: ``max(0, 1 - f)`` is ``rho_1(1 -
    f)`` and ``max(0, 1 + f)`` is ``rho_0(-1 - f)``. The epsilon-insensitive
    loss is two, ``rho_1(y_i - epsilon - f) + rho_0(y_i + epsilon - f)``: at
    most one of them is positive.

    Parameters
    ----------
    loss : Loss
        The loss.
    y : array of shape (n_samples,)
        The targets, float64.

    Returns
    -------
    pieces : list of (array, array) or None
        The targets and quantiles of each piece, one entry per sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import EpsilonInsensitive, Hinge
    >>> pinball_pieces(Hinge(), np.array([1.0, -1.0]))
    [(array([ 1., -1.]), array([1., 0.]))]
    >>> [t for t, q in pinball_pieces(EpsilonInsensitive(0.5), np.array([2.0]))]
    [array([1.5]), array([2.5])]
    """
    xp = array_namespace(y)
    if isinstance(loss, Pinball):
        return [(y, xp.full_like(y, float(loss.quantile)))]
    if isinstance(loss, Hinge):
        return [(y, xp.where(y > 0, 1.0, 0.0))]
    if isinstance(loss, EpsilonInsensitive):
        one, eps = xp.ones_like(y), float(loss.epsilon)
        return [(y - eps, one), (y + eps, 0.0 * one)]
    return None


def _cholesky_solver(G, active, shift=0.0):
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
    # A proximal term on the steps (see _PROXIMAL): the same shift in G, which
    # the refinement below solves with.
    S = S + xp.diag(xp.where(active, shift / d, 0.0))
    G = G + xp.diag(xp.where(active, shift, 0.0))
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

    solve.diagonal = d
    return solve


def _start(lp):
    """Return the first interior point: ``x = (1 - q) upper`` and a least-squares y.

    Where ``q`` is 0 or 1 (the hinge's and epsilon-insensitive loss's pieces)
    that ``x`` is a corner of the box: those rows start :data:`_CORNER` into
    it, off the constraint ``A x = b`` (for the hinge), which the steps
    restore (see :func:`_iterate`). ``y`` solves the weighted least-squares
    problem of the augmented data (the penalty rows and the L2 part make it a
    ridge); ``z`` and ``w`` are the positive and negative parts of the residual
    ``c - A.T y``, both raised by ``delta / upper`` (which keeps their
    difference): every product ``x_i z_i`` and ``s_i w_i`` is then
    at least ``delta`` times ``1 - q`` or ``q``. rq.fit.fnb raises only exact
    zeros; with the samples' bounds (1 / n) far below the penalty rows'
    (alpha), its steps stalled at 100,000 x 50 from the first one.
    """
    sxp = lp.sxp
    q = lp.quantile
    inside = sxp.where(lp.corner, sxp.clip(q, _CORNER, 1.0 - _CORNER), q)
    x = (1.0 - inside) * lp.upper
    (rhs,), _, solve = lp.terms([lp.upper * lp.c], weights=lp.upper)
    y = solve(rhs)
    lp.shift = _PROXIMAL * solve.diagonal
    r = lp.c - lp.back(y)
    delta = lp.backend.to_float(lp.upper @ sxp.abs(r)) / r.shape[0]
    delta = max(delta, lp.xp.finfo(lp.xp.float64).tiny) / lp.upper
    z = sxp.maximum(r, 0.0) + delta
    x, s, z, w = lp.backend.persist(x, lp.upper - x, z, z - r)
    return _Point(x, s, y, z, w)


def _longest(v, dv):
    """Return the (lazy on Dask) largest ``t`` keeping ``v + t dv >= 0``, or inf."""
    xp = array_namespace(v)
    shrinking = dv < 0
    # (Where dv >= 0 the ratio's denominator is -1: no division by 0.)
    ratio = -v / xp.where(shrinking, dv, -1.0)
    return xp.min(xp.where(shrinking, ratio, math.inf))


def _step_lengths(lp, p, dx, dz, dw):
    """Return the primal and dual step lengths (``ds = -dx``): one compute on Dask."""
    lengths = _longest(p.x, dx), _longest(p.s, -dx), _longest(p.z, dz)
    return _step_lengths_of(lp.backend.to_floats(*lengths, _longest(p.w, dw)))


def _step_lengths_of(t):
    """Return the primal and dual step lengths from the four of :func:`_longest`."""
    primal, dual = min(t[0], t[1]), min(t[2], t[3])
    return min(_TO_BOUNDARY * primal, 1.0), min(_TO_BOUNDARY * dual, 1.0)


def _centring_dots(p, dx, dz, dw):
    """Return the dot products of :func:`_centring` (lazy on Dask)."""
    return (
        p.z @ p.x + p.w @ p.s,
        p.z @ dx - p.w @ dx,
        dz @ p.x + dw @ p.s,
        dz @ dx - dw @ dx,
    )


def _centring(dots, fp, fd):
    """Return ``(mu, g)``: the complementarity now and after the affine step.

    ``g = (z + fd dz).(x + fp dx) + (w + fd dw).(s - fp dx)``, a polynomial in
    the step lengths whose coefficients are :func:`_centring_dots`: they come
    in the same pass as the step lengths.
    """
    now, primal, dual, both = (float(d) for d in dots)
    return now, now + fp * primal + fd * dual + fp * fd * both


def _iterate(lp, p):
    """Return the point after one predictor-corrector step (rq.fit.fnb's loop body).

    The affine-scaling step solves the Newton system of the optimality
    conditions (with the residual of ``A x = b``, see below); where its full
    length would leave the box, Mehrotra's corrector re-solves with the same
    matrix for a centred target ``mu``.
    """
    q = 1.0 / (p.z / p.x + p.w / p.s)
    r = p.z - p.w
    # The steps keep A x = b only to the rounding of their solves, which an
    # ill-conditioned X makes large, and the hinge's start is off it: the
    # residual is put back into each step. (A is linear: forward(q r) plus
    # the residual b - A x - l2 P y is one forward, of q r - x.)
    infeasible = lp.b - lp.ridge_part(p.y)
    (rhs,), _, solve = lp.terms([q * r - p.x], weights=q)
    dy = solve(rhs + infeasible)
    dx = q * (lp.back(dy) - r)
    dz = -p.z * (dx / p.x + 1.0)
    dw = -p.w * (-dx / p.s + 1.0)
    dxdz, dsdw = dx * dz, -dx * dw
    xinv, sinv = 1.0 / p.x, 1.0 / p.s
    # The corrector's right-hand side is linear in mu: forward(base - mu
    # unit). On Dask both forwards come with the step lengths and the dot
    # products of Mehrotra's mu, in one pass.
    base, unit = q * (r + dxdz - dsdw) - p.x, q * (xinv - sinv)
    ahead = [base, unit] if hasattr(lp.backend, "row_terms") else []
    lengths = _longest(p.x, dx), _longest(p.s, -dx), _longest(p.z, dz)
    dots = _centring_dots(p, dx, dz, dw)
    ahead, small, _ = lp.terms(ahead, small=[*lengths, _longest(p.w, dw), *dots])
    fp, fd = _step_lengths_of(small[:4])
    if min(fp, fd) < 1.0:
        mu, g = _centring(small[4:], fp, fd)
        mu = mu * (g / mu) ** 3 / (2.0 * p.x.shape[0])
        xi = mu * (xinv - sinv)
        if ahead:
            rhs = ahead[0] - mu * ahead[1]
        else:
            rhs = lp.forward(base - mu * unit)
        dy = solve(rhs + infeasible)
        dx = q * (lp.back(dy) + xi - r - dxdz + dsdw)
        dz = mu * xinv - p.z - xinv * p.z * dx - dxdz
        dw = mu * sinv - p.w + sinv * p.w * dx - dsdw
        fp, fd = _step_lengths(lp, p, dx, dz, dw)
    # Persisted together: on Dask the next step's passes then start from
    # these vectors, not from the chain of expressions that made them.
    x, s, z, w = lp.backend.persist(
        p.x + fp * dx, p.s - fp * dx, p.z + fd * dz, p.w + fd * dw
    )
    return _Point(x, s, p.y + fd * dy, z, w)


def _certificate(objective, lp, point):
    """Return ``(w, b, gap)``: the coefficients and the true problem's duality gap.

    The dual point is ``theta = x - (1 - q) u`` on the samples, summed over
    their pinball pieces (:meth:`_QuantileProgram.dual_point`): in the loss's
    box (``[(q - 1) u, q u]`` for quantile regression, ``0 <= y theta <= u`` for
    the hinge, ``|theta| <= u`` for the epsilon-insensitive loss). With a
    penalty that has a duality gap,
    :meth:`~skgd._objective.LinearObjective.duality_gap` makes it feasible
    (centred for the intercept, scaled into the L1 ball) and bounds the
    suboptimality of ``(w, b)``. Without one (no penalty, or a feature of
    weight 0) see :func:`_corrected_gap`.
    """
    w, b = lp.coefficients(point.y)
    return w, b, _gap(objective, lp, w, b, point)


def _gap(objective, lp, w, b, point):
    """Return the duality gap at ``(w, b)`` of the program's dual point at ``point``."""
    c = objective.offset(w, b)
    raw = objective.raw(w, c)
    theta = _full(objective, lp, lp.dual_point(point))
    if objective.has_duality_gap:
        # theta is in the loss's box (x is inside its own): the gap centres it
        # for the intercept the loss's way, which keeps it there. (Centred
        # here, the hinge's one-sided box was left where the steps had not yet
        # met A x = b, and the "gap" came out negative.)
        g = -theta
        return objective.duality_gap(w, raw, objective.backprop(g)[0], g)
    return _corrected_gap(objective, lp, w, c, raw, theta)


def _full(objective, lp, v):
    """Return the samples' vector ``v`` with 0 on the rows of weight 0 put back."""
    if lp.n == objective.n_samples:
        return v
    put_rows = getattr(objective.backend, "put_rows", None)
    if put_rows is not None:
        return put_rows(objective.u > 0, v)
    full = lp.xp.zeros(objective.n_samples)
    full[objective.u > 0] = v
    return full


def _box(objective):
    """Return the loss's box ``lower <= theta <= upper`` (the sum of its pieces')."""
    xp = objective.xp
    pieces = pinball_pieces(objective.loss, xp.asarray(objective.y, dtype=xp.float64))
    upper = sum(q for _, q in pieces) * objective.u
    return upper - len(pieces) * objective.u, upper


def _corrected_gap(objective, lp, w, c, raw, theta):
    """Return the gap ``P(w) - D(theta')`` where unpenalized features have no dual.

    The conjugate of the penalty is finite only where ``v_j = (X_c.T theta)_j``
    is 0 on the features ``F`` of no penalty strength, as the intercept's
    needs ``sum(theta) = 0``: the program keeps both only to the rounding of
    its steps, which nearly collinear columns make large. The loss's conjugate
    is linear on its box (a quadratic one of no curvature), so the dual point
    is corrected as :func:`~skgd._gaps.box_gap` corrects huber's: ``theta' =
    theta - W Z a`` with ``(Z.T W Z) a = Z.T theta`` and ``Z = [X_c[:, F],
    1]`` (:func:`~skgd._gaps._interior_step`), ``W`` each sample's distance to
    the nearer face of its box (the samples at a face stay; a step of at most
    1 keeps the others inside). Up to :data:`_CORRECTIONS` of them, each a
    weighted Gram matrix of ``F`` and a pass over X, until ``X_c[:, F].T
    theta'`` and ``sum(theta')`` are within :func:`~skgd._gaps.rounding_bound`
    of 0; ``inf`` where ``theta'`` leaves the box or they are not. The
    penalized features' part is then scaled into the penalty's dual ball, and
    the gap is ``P(w) - D(theta')`` plus the rounding of those constraints
    times the coefficients (``|w_j| (|v_j| + bound_j)`` and the offset's
    term): what the lower bound may move by at the optimum's coefficients, for
    which those at hand stand in.
    """
    xp, cxp = objective.xp, objective.coef_xp
    backend_float = objective.backend.to_float
    l1, l2 = lp.strengths, lp.ridge
    free = [j for j in range(lp.n_features) if l1[j] <= 0 and l2[j] <= 0]
    v, total = objective.backprop(theta)
    held = []
    if lp.positive:
        # With w >= 0 a coefficient that is 0 at the optimum needs only v_j <=
        # 0: those at 0 and those whose v_j is below 0 by a share of its
        # row's bound (as in _sparsified) are not corrected.
        scale = lp.split(lp.upper)[2]
        held = [j for j in free if not w[j] > 0 or v[j] < -_SLACK * float(scale[j])]
        free = [j for j in free if j not in held]
    index, held = cxp.asarray(free, dtype=cxp.int64), cxp.asarray(held, dtype=int)
    lower, upper = _box(objective)
    # Each sample's distance to the nearer face of its box: a step of at
    # most 1 along Z a leaves it inside.
    scaling = xp.maximum(xp.minimum(theta - lower, upper - theta), 0.0)
    slack = 64.0 * float(cxp.finfo(cxp.float64).eps) * objective.u
    bound, unit = _rounding(objective)
    if bound is None:  # (an uncentered objective: no column moments)
        return math.inf
    # The right-hand sides' rounding (v_F, then sum(theta)), which the solves
    # need not meet more closely.
    known = cxp.concatenate([bound[index], [unit] if objective.fit_intercept else []])
    for _ in range(_CORRECTIONS if free or objective.fit_intercept else 0):
        if free:
            step = _interior_step(objective, scaling, v, total, free, known)
        else:  # (the intercept's constraint alone)
            step = 0.0 * w, float(total) / backend_float(xp.sum(scaling))
        if step is None:
            return math.inf
        theta = theta - scaling * objective.raw(*step)
        if bool(xp.any((theta < lower - slack) | (theta > upper + slack))):
            return math.inf
        theta = xp.clip(theta, lower, upper)
        v, total = objective.backprop(theta)
        met = not bool(cxp.any(cxp.abs(v[index]) > bound[index]))
        met = met and not bool(cxp.any(v[held] > bound[held]))
        if met and (not objective.fit_intercept or abs(float(total)) <= unit):
            break
    else:
        if free or objective.fit_intercept:
            return math.inf
    moved = cxp.abs(w[index]) @ (cxp.abs(v[index]) + bound[index])
    if objective.fit_intercept:
        moved += abs(float(c)) * (abs(float(total)) + unit)
    v[index] = 0.0
    v[held] = cxp.minimum(v[held], 0.0)
    k = objective.penalty.penalized_dual_scale(v)
    gap = _gap_at(objective, w, raw, theta, 1.0 if k is None else k, v)
    # (P(w) - D(theta') falls below 0 only by its rounding.)
    return max(gap, 0.0) + float(moved)


def _sparsified(objective, lp, point, w, b):
    """Return ``(w, gap)`` with the coefficients that L1 zeroes set to 0 exactly.

    The iterates are interior: a coefficient that is 0 at the optimum is only
    small. Its two penalty rows tell it: their dual variables ``x`` give
    ``|X_j.theta| = |x_plus - x_minus|``, strictly below ``alpha c_j`` (by
    :data:`_SLACK`) only where ``w_j = 0`` at the optimum. Those coefficients are
    zeroed and the gap is made again at the result (``gap``, None where none
    is zeroed).
    """
    xp = lp.xp
    _, plus, minus = lp.split(point.x)
    if lp.positive:
        # The -e_j row's dual is at its upper face where w_j > 0.
        upper = lp.split(lp.upper)[2]
        inside = upper - minus > _SLACK * upper
    else:
        alpha = lp.strengths[lp.penalized]
        inside = xp.abs(plus - minus) < (1.0 - _SLACK) * alpha
    if not xp.any(inside):
        return w, None
    sparse = xp.array(w, copy=True)
    sparse[lp.penalized[inside]] = 0.0
    return sparse, _gap(objective, lp, sparse, b, point)


def _float64_objective(objective):
    """Return ``objective`` in float64 (itself if it is), for the certificate."""
    xp = objective.xp
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
    """Minimise a sum of pinball losses with an elastic-net penalty by interior points.

    **Steps.** Frisch-Newton predictor-corrector steps on the dual of the
    quantile program of the augmented data (see the module docstring), from
    rq.fit.fnb's start (see :func:`_start`): the interior method needs no start
    of its own, so ``w0`` and ``c0`` are not used. Each step costs one
    weighted Gram matrix of X and a few products with X and X.T. float32 data
    are solved in float64 (a copy of X).

    **Stopping.** After each step the duality gap of the true problem is made at
    the coefficients (see :func:`_certificate`; two passes over X, and the
    corrections of :func:`_corrected_gap` without a penalty): the run
    stops when that, relative to the objective at zero, is below ``tol``, or
    when the program's own gap no longer falls (rounding). The result is the
    step of the smallest gap, with the coefficients that the L1 part zeroes set
    to 0 (see :func:`_sparsified`).

    Parameters
    ----------
    objective : LinearObjective
        The problem: the pinball, hinge or epsilon-insensitive loss, an
        elastic-net-family penalty (with weights or not, with the constraint
        ``w >= 0`` or not) or none, one output, numpy, scipy.sparse or Dask
        data (see the module docstring for Dask, and
        :func:`~skgd.solvers._routing.interior_point_applies` for when).
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
    best = point
    # Where a pass over X is a round trip (Dask), the gap is made only once
    # the program's complementarity is within _GATE of tol, and at the last step.
    gate = _GATE * threshold if hasattr(lp.backend, "row_terms") else math.inf
    while n_iter < max_iter:
        point = _iterate(lp, point)
        n_iter += 1
        value, spread = lp.value(point)
        curve.append(value)
        if callback is not None:
            callback(n_iter, lp.coefficients(point.y)[0], curve[-1])
        solved = spread <= _ROUNDING * ref
        last = solved or n_iter == max_iter or stalled + 1 >= _PATIENCE
        found = (w, b, math.inf)
        if spread <= gate or last:
            found = _certificate(exact, lp, point)
        progress = found[2] < 0.9 * measure or spread < 0.9 * smallest
        stalled = 0 if progress else stalled + 1
        smallest = min(smallest, spread)
        if found[2] <= measure:
            (w, b, measure), best = found, point
        if verbose:
            print(
                f"[interior-point] iter {n_iter:3d}  relative duality gap "
                f"{found[2] / ref:.3e}, complementarity {spread / ref:.3e}"
            )
        if measure <= threshold or solved or stalled >= _PATIENCE:
            break
    if n_iter and lp.penalized.shape[0]:
        sparse, gap = _sparsified(exact, lp, best, w, b)
        if gap is not None and gap <= max(measure, threshold):
            w, measure = sparse, gap
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
