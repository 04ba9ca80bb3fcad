# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Working sets for penalties with an L1 part: solve on a few columns, check on all.

The full-batch solver's work is proportional to the number of features, while an L1
solution has few nonzeros. Here the problem is solved on a growing set of columns
(the support so far plus the worst violators of the optimality conditions), and the
duality gap of the full problem, one pass over X, decides when to stop. The stopping
measure is the one of :func:`~skgd.solvers._gd.solve_gd`; only the route to it changes.
"""

import dataclasses
import math

from array_api_compat import device

from skgd._backend._dense import serial_width
from skgd._backend._namespace import count_true
from skgd._backend._threads import serial_product
from skgd._contract import check_support
from skgd._gaps import nearest_subgradient, rounding_bound
from skgd._objective import LinearObjective
from skgd._planner import GRAM_MAX_FEATURES, choose_form, in_form
from skgd._stats import SharedProducts
from skgd.solvers._gram_enet import (
    elastic_net_gap,
    scatter,
    solve_gram_cd,
    solve_gram_enet,
    start_cannot_certify,
)
from skgd.solvers._result import SolverResult

# A check of the full problem costs a pass over X; below this many features the
# plain solver's passes are hardly more expensive than the subproblems'.
_MIN_FEATURES = 64
# Size of the first working set when starting from zero coefficients: larger than
# the least a set grows by (_GROWTH), as a first set of 16 took two more checks on
# the lasso cases of the benchmarks (5,000 x 500, 200 x 2,000) than one of 32, and
# one of 32 one or two more than one of 64 on five of six AR(1) designs of 5,000 x
# 500 (rho 0.7 and 0.9, alpha_max / 20, 30 to 41 nonzeros) and one more on 200 x
# 2,000 (123 nonzeros); the Gram matrix of the set costs less than those passes.
_FIRST_SIZE = 64
# The least a set grows by (while that many features violate their conditions).
_GROWTH = 16
# Once a working set would hold this share of the features, the full problem is
# solved instead: the working set no longer saves work.
_FULL_SHARE = 0.5
# The subproblems' gap target, a share of the full problem's: the full gap
# adds only what features outside the set violate (and rounding), so a set that
# holds them passes its check at once. Half of it cost the coordinate descent
# of a GDRegressorCV path (100 x 2,000) 47% more epochs than 0.9, and no check
# fewer.
_INNER = 0.9


def working_set_mode(objective):
    """Return how :func:`solve_working_set` should run on ``objective``, or None.

    Parameters
    ----------
    objective : ObjectiveForm
        The problem: its loss, penalty, number of outputs and backend decide.

    Returns
    -------
    mode : {"gram", "samples"} or None
        ``"gram"``: squared loss with the Gram matrix of all features, where
        :func:`skgd._planner.choose_form` chooses it (checks are free of X; any
        backend with a Gram form, Dask included, since only coefficient-sized
        arrays are involved). ``"samples"``: checks by one pass
        over X each, subproblems on the gathered columns (backends that gather
        columns: dense arrays and scipy.sparse). None: working sets do not apply
        (no L1 part, no duality gap, a non-smooth loss, K outputs, or too few
        features for them to pay). An elastic net with the constraint ``w >= 0``
        (:meth:`~skgd.penalties.Penalty.elastic_net_shape`) is one too.
    """
    # The penalty's shape: the constraint w >= 0 only makes the conditions that
    # rank the features one-sided (see _violations).
    if not (objective.penalty.elastic_net_shape() or (0.0,))[0] > 0:
        return None
    if not (objective.loss.is_smooth and objective.has_duality_gap):
        return None
    if objective.loss.curvature_bound is None:
        return None  # the subproblems' solver needs a global bound
    if objective.n_outputs > 1:
        # The sets are of features with w_j != 0: K outputs would need sets of
        # rows of W (a group penalty's support), which these sets are not.
        return None
    if choose_form(objective, "working_set") == "gram":
        return "gram"
    # Dask's backend gathers no columns: there the plain solver's one pass per
    # iteration is what it is built for.
    if objective.n_features >= _MIN_FEATURES and hasattr(
        objective.backend, "take_columns"
    ):
        return "samples"
    return None


class _GramSpace:
    """Checks and subproblems of the Gram form: slices of ``G``, no X."""

    # Subproblem iterations in coefficient space cost far less than a check: they
    # are solved well past the current gap, so that the next check often ends it.
    inner_share = 0.1

    def __init__(self, objective, ref):
        self.objective, self.ref = objective, ref
        self.xp = self.cxp = objective.coef_xp
        # The rounding bound of the checks' gaps (see _quadratic_gap).
        self.rounding = None
        # The last solution and its gradient (see _strong_rule).
        self.last = None
        self.curv = objective.curvature
        self.q, self.yy = self.curv * objective.q, self.curv * objective.yy
        # Beyond this size the set is the whole problem (as cheap to slice).
        n_active = int(self.xp.sum(self.xp.astype(objective.active, self.xp.int64)))
        self.limit = _FULL_SHARE * n_active
        # The set the last check and subproblem were on (the next alpha of a
        # path starts from it), G's rows there and its block on the set; the
        # set whose rows the buffer holds, in its order.
        self.cols = self.held = self.xp.zeros(
            0, dtype=self.xp.int64, device=device(objective.q)
        )
        self.rows = self.block = None
        self.buffer = _Columns(self.xp, objective.n_features)

    def retarget(self, objective, ref):
        """Use the space for ``objective``, the same problem with another penalty."""
        self.objective, self.ref = objective, ref

    def room(self, size):
        """Return how many near violators a set of ``size`` may take (see _violations).

        0 here: checks are products with G, as cheap as the subproblems, and
        sets grow by the violators alone.
        """
        return 0

    def gather(self, cols):
        """Take ``cols`` as the set (G holds every column: nothing to gather)."""
        self.cols = cols

    def _rows(self):
        """Return the rows of G on the set (kept while the set is the same).

        Sets grow by appending: a set that extends the one held takes only its
        new features' rows from G, into a buffer that grows by doubling
        (:class:`_Columns`), where taking all of the set's rows again copied
        ``k * n_features`` numbers at each alpha of a path.
        """
        xp, cols, held = self.xp, self.cols, self.held
        m, k = held.shape[0], cols.shape[0]
        if k < m or not bool(xp.all(cols[:m] == held)):
            self.buffer, self.rows, m = _Columns(xp, self.objective.n_features), None, 0
        if self.rows is None or k > m:
            new = xp.take(self.objective.G, cols[m:], axis=0)
            gathered = self.buffer.append_rows(new)
            self.rows, self.held, self.block = xp.matrix_transpose(gathered), cols, None
        return self.rows

    def check(self, w, c):
        """Return the full gradient in ``w`` and the duality gap at ``(w, c)``."""
        xp, objective = self.xp, self.objective
        # raw = G @ w from the rows of the set, which holds the support (G is
        # symmetric).
        raw = xp.take(w, self.cols) @ self._rows()
        _, grad_w, _ = objective.gradient(raw)
        # sum_i u_i r_i**2 = yy - w.(2 q - G w), times the curvature.
        residual_sq = lambda: max(
            self.yy - float(w @ (2.0 * self.q - self.curv * raw)), 0.0
        )
        return grad_w, _quadratic_gap(self, w, grad_w, residual_sq)

    def solve(self, cols, w_cols, c, threshold, budget, on_iter, verbose, first):
        """Solve the problem on ``cols``; return ``(w_cols, c, curve, gap)``."""
        xp = self.xp
        self.gather(cols)
        rows = self._rows()
        if self.block is None:
            self.block = self.curv * xp.take(rows, cols, axis=1)
        q = xp.take(self.q, cols)
        run = (threshold, budget, on_iter, verbose, first)
        w_cols, gap, curve = _solve_gram(self, self.block, q, w_cols, *run)
        return w_cols, c, curve, gap


def _solve_gram(space, G, q, w, threshold, budget, on_iter, verbose, first):
    """Solve the subproblem ``(G, q)`` of ``space`` from ``w`` by its inner solver.

    Return ``(w, gap, curve)``. The gap is the smaller of the elastic net's and
    its lasso form's, as in the checks (see :func:`_quadratic_gap`). The inner
    solver is coordinate descent (:func:`solve_gram_cd`), for the complete
    problem of a few features (all of them in the set) too: on 8,000 x 50
    (benchmark case 5) accelerated proximal gradient took 30 to 40 iterations
    of Python calls at the small alphas, where one compiled run of coordinate
    descent (``k**2`` operations per epoch) did it in a fraction of the time.
    """
    return space.inner(
        G,
        q,
        space.yy,
        space.objective.penalty,
        w,
        threshold=threshold,
        max_iter=budget,
        xp=space.cxp,
        on_iter=on_iter,
        verbose=verbose,
        ref=space.ref,
        first_iter=first,
        lasso_form=True,
    )


def _solve_complete(G, q, yy, penalty, w, *, threshold, max_iter, **options):
    """Solve the complete problem by :func:`solve_gram_cd`, unless its start is done.

    A start whose gap already meets ``threshold`` is returned as it is, with no
    iteration, as the proximal gradient returns it: at ``alpha_max`` (the first
    alpha of a path) zero stays exactly zero, where a run of coordinate descent
    moves the feature on the bound by rounding (1e-13 on diabetes). A start whose
    gap provably misses it (:func:`start_cannot_certify`: a path's warm start at
    the next alpha, most often) skips that gap.
    """
    kw = {"threshold": threshold, **options}
    if not start_cannot_certify(G, q, yy, penalty, w, threshold, options["xp"]):
        w, gap, curve = solve_gram_enet(G, q, yy, penalty, w, max_iter=0, **kw)
        if gap <= threshold:
            return w, gap, curve
    return solve_gram_cd(G, q, yy, penalty, w, max_iter=max_iter, **kw)


def _solve_part(G, q, yy, penalty, w, **options):
    """Solve a part of the problem by :func:`solve_gram_cd`, left to the check.

    The check of the full problem that follows certifies the result: a run
    of coordinate descent that meets the threshold by its own gap (the lasso
    form's dual point) is not measured again (``certify=False``).
    """
    return solve_gram_cd(G, q, yy, penalty, w, certify=False, **options)


def _inner_solver(complete, threshold):
    """Return the solver of the subproblems on G (see :func:`_solve_gram`).

    Coordinate descent, but ``threshold`` 0 (``tol=None``: run the budget) on
    the complete problem runs the proximal gradient's iterations, where a run of
    coordinate descent would take its epochs to no tolerance and count as one.
    A part of the problem is left to the check that follows (:func:`_solve_part`).
    """
    if not complete:
        return _solve_part
    return _solve_complete if threshold > 0 else solve_gram_enet


class _SampleSpace:
    """Checks by passes over X; subproblems over the columns gathered so far.

    The gathered columns (a copy of at most half of X's columns, see
    :data:`_FULL_SHARE`, or up to :data:`~skgd._planner.GRAM_MAX_FEATURES` of them
    with Gram subproblems) are kept and extended as the set grows. Dense columns are
    stored centered (the copy is ours), so the products that build their Gram
    matrix are single BLAS calls without temporaries; sparse columns stay sparse,
    and their Gram matrix is a sparse-times-sparse product centered afterwards
    (dense only at the set's size). With the squared loss that Gram matrix is the
    subproblem (solved free of X by :func:`solve_gram_cd`); with other losses the
    plain solver runs on the gathered columns.
    """

    # A subproblem on the set's Gram matrix costs k**2 per epoch, a check a pass
    # over X: the subproblems are solved to the tolerance of the full problem at
    # once, so that the set alone decides how many checks there are.
    inner_share = 0.0

    def __init__(self, objective, solve_direct, ref):
        self.objective = objective
        self.solve_direct, self.ref = solve_direct, ref
        self.backend = objective.backend
        self.xp, self.cxp = objective.xp, objective.coef_xp
        # The column statistics the subproblems slice.
        self.stats, self.sq = objective.stats, objective.moments().sq
        self.cols = self.cxp.zeros(0, dtype=self.cxp.int64)
        self.X_cols = None
        self.rounding = None
        self.last = None
        self.quadratic = objective.loss.is_quadratic
        # Sparse columns cannot be centered without densifying them; their Gram
        # matrix is a sparse-times-sparse product, centered afterwards.
        self.dense = hasattr(self.backend, "weighted_gram")
        sparse_gram = hasattr(self.backend, "sparse_gram")
        self.use_gram = self.quadratic and (self.dense or sparse_gram)
        # The largest set worth gathering: beyond, the plain solver on all the
        # features. With Gram subproblems (coordinate descent, as fast on a wide
        # set as on a narrow one) of dense X up to GRAM_MAX_FEATURES columns,
        # whose Gram matrix stays small next to X; else half of them. A sparse
        # set's Gram matrix is kept no larger than X's nonzeros: beyond, its
        # subproblems go back to the plain solver on the gathered columns.
        share = math.ceil(_FULL_SHARE * objective.n_features)
        self.limit = share
        if self.use_gram and self.dense:
            self.limit = max(share, min(objective.n_features, GRAM_MAX_FEATURES))
        self.gram_budget = getattr(objective.X, "nnz", math.inf)
        if self.dense:
            self.columns = _Columns(self.xp, self.limit)
        self.sub = None
        self.gram = None
        if not self.use_gram:
            # Subproblem iterations are passes over the gathered columns: a quarter
            # of the gap, as in celer, balances them against the checks.
            self.inner_share = 0.25
            return
        u = objective.u
        self.curv = objective.curvature
        yc = objective.y - objective.y_offset
        self.uyc = u * yc
        self.yy = self.curv * float(self.uyc @ yc)
        # The common weight when all are equal (the Gram matrix of the set is then
        # that of the columns themselves, scaled), else None.
        equal = bool(self.xp.all(u == u[0]))
        self.uniform = float(u[0]) if equal else None

    def retarget(self, objective, ref):
        """Use the space for ``objective``, the same problem with another penalty.

        The gathered columns and their Gram matrix do not depend on the penalty:
        along a path they are gathered once. (The sub-objective takes the new
        penalty where the plain solver needs it, see :meth:`solve`; the checks
        use its products alone.)
        """
        self.objective, self.ref = objective, ref

    def room(self, size):
        """Return how many near violators a set of ``size`` may take (see _violations).

        A check is a pass over X, and a round costs its gathering and solve too,
        where a column more in a dense set costs n products per column of the
        set: dense sets with Gram subproblems take them, up to the space's limit.
        """
        return self.limit - size if self.use_gram and self.dense else 0

    def gather(self, cols):
        """Gather the columns ``cols`` (the gathered ones first) if some are new."""
        if cols.shape[0] != self.cols.shape[0] or self.sub is None:
            self._extend(cols)

    def _extend(self, cols):
        """Gather the columns of ``cols`` not yet gathered; rebuild the subproblem."""
        cxp, objective = self.cxp, self.objective
        new = cols[self.cols.shape[0] :]
        x_mean = cxp.take(self.stats.x_mean, cols)
        block = None
        if new.shape[0]:
            if self.dense:
                # Centered as they are copied in (X itself is left alone).
                offset = x_mean[-new.shape[0] :] if objective.fit_intercept else None
                X = objective.X
                self.X_cols = self.columns.append(self.backend, X, new, offset)
                block = self.X_cols[:, -new.shape[0] :]
            else:
                block = self.backend.take_columns(objective.X, new)
                self.X_cols = (
                    block
                    if self.X_cols is None
                    else self.backend.hstack([self.X_cols, block])
                )
            self.cols = cols
        # Centered columns: the sub-objective's own centering is by zero. Its
        # products (moments, Gram matrix) are those of the gathered columns.
        stats = dataclasses.replace(
            self.stats,
            x_mean=cxp.zeros_like(x_mean) if self.dense else x_mean,
            sq=cxp.take(self.sq, cols),
            products=SharedProducts(),
        )
        self.sub = LinearObjective(
            self.backend,
            self.X_cols,
            objective.y,
            objective.loss,
            objective.penalty,
            fit_intercept=objective.fit_intercept,
            stats=stats,
        )
        if self.use_gram and block is not None:
            if self.dense:
                self._extend_gram(block)
            elif cols.shape[0] ** 2 <= self.gram_budget:
                self._sparse_gram(x_mean)
            else:
                self.use_gram, self.gram, self.inner_share = False, None, 0.25

    def _extend_gram(self, block):
        """Add the rows and columns of the centered ``block`` to the subproblem.

        Only the products with the new columns are computed: a set that doubles
        costs half its Gram matrix each time, one that gains a few columns next to
        nothing. Each is one call on one BLAS thread where the process allows it,
        else products by a few columns in row blocks on the calling thread (see
        :func:`_products`); with equal weights the new columns' own block is a
        ``syrk`` there, half the work of a general product (the products of a 62-
        then 112-column set of a 5,000-row X: 2.2 ms of CPU against 2.9 ms as
        general products and 3.9 ms in row blocks).
        """
        backend, cxp, u = self.backend, self.cxp, self.objective.u
        q_new = self.curv * backend.rmatvec(block, self.uyc)
        # With equal weights the products are of the columns themselves, scaled
        # once: no weighted copy of the block, and its own product a syrk.
        if self.uniform is None:
            right, scale = block * u[:, None], self.curv
        else:
            right, scale = block, self.curv * self.uniform
        corner = _products(backend, cxp, block, right)
        # (Symmetric to the last bit, as a syrk made it; a syrk's own is already,
        # and then this is ``scale * corner`` to the bit.)
        corner = scale * 0.5 * (corner + cxp.matrix_transpose(corner))
        if self.gram is None:
            self.gram = (corner, q_new)
            return
        G, q = self.gram
        k = G.shape[0]
        cross = scale * cxp.matrix_transpose(
            _products(backend, cxp, self.X_cols[:, :k], right)
        )
        top = cxp.concat([G, cxp.matrix_transpose(cross)], axis=1)
        bottom = cxp.concat([cross, corner], axis=1)
        self.gram = (cxp.concat([top, bottom], axis=0), cxp.concat([q, q_new]))

    def _sparse_gram(self, x_mean):
        """Make the subproblem of the sparse gathered columns, centered by ``x_mean``.

        One sparse-times-sparse product of the whole set (the backend's
        ``sparse_gram``, dense only at the set's size): a set that doubles costs
        at most twice its last product in all.
        """
        backend, objective = self.backend, self.objective
        G = backend.to_coef(backend.sparse_gram(self.X_cols, objective.u, x_mean))
        # C.T (u yc) = X_S.T (u yc) - mean sum(u yc), C the centered columns.
        q = backend.to_coef(backend.rmatvec(self.X_cols, self.uyc))
        q = q - x_mean * float(self.cxp.sum(self.uyc))
        self.gram = (self.curv * G, self.curv * q)

    def check(self, w, c):
        """Return the full gradient in ``w`` and the duality gap (one pass over X)."""
        objective = self.objective
        if self.sub is None:
            raw = self.backend.full(objective.n_samples, c, objective.dtype)
        else:
            raw = self.sub.raw(self.cxp.take(w, self.cols), c)
        g, grad_w, _ = objective.gradient(raw)
        if not (self.quadratic and objective.intercept_mode != "free"):
            raw_grad = None if self.quadratic else g
            return grad_w, objective.duality_gap(w, raw, grad_w, raw_grad)
        u, r = objective.u, objective.y - raw
        residual_sq = lambda: self.backend.to_float((u * r) @ r)
        return grad_w, _quadratic_gap(self, w, grad_w, residual_sq)

    def solve(self, cols, w_cols, c, threshold, budget, on_iter, verbose, first):
        """Solve the problem on ``cols``; return ``(w_cols, c, curve, gap)``."""
        self.gather(cols)
        if self.use_gram:
            run = (threshold, budget, on_iter, verbose, first)
            w_cols, gap, curve = _solve_gram(self, *self.gram, w_cols, *run)
            return w_cols, c, curve, gap
        callback = None
        if on_iter is not None:
            callback = lambda it, w, value: on_iter(w, value)
        if self.sub.penalty is not self.objective.penalty:
            self.sub = self.sub.with_penalty(self.objective.penalty)
        res = self.solve_direct(
            self.sub,
            w_cols,
            c,
            max_iter=budget,
            tol=threshold / self.ref,
            verbose=verbose,
            callback=callback,
        )
        gap = res.extra["measure"] * self.ref
        return res.coef, res.extra["offset"], res.objective_curve, gap


def _products(backend, cxp, X, R):
    """Return ``X.T @ R``: one call on one BLAS thread, else products by few columns.

    One call where :func:`~skgd._backend._threads.serial_product` may make it
    (the process's only thread, a numpy X of moderate size). Elsewhere products
    by at most :data:`_GROWTH` columns of ``R``, narrow enough for the backend to
    run them in row blocks on the calling thread (see
    :meth:`~skgd._backend._dense.DenseBackend.rmatvec`): the Gram matrix of a
    first set of 62 columns of a 5,000-row X, one product on OpenBLAS's two
    threads, took a median 22 to 38 ms with the load average at 18 on 2 cores,
    against 7.5 to 10 ms in products of 16 columns (1.1 ms at best, both). Against
    a wide set, fewer columns (:func:`~skgd._backend._dense.serial_width`): 16
    columns by 291 gathered ones of 2,000 rows went to OpenBLAS's threads, 18 ms
    each with the load average at 5.
    """
    product = serial_product(X, R)
    if product is not None:
        return product
    m, step = R.shape[1], serial_width(X, _GROWTH)
    if m <= step:
        return backend.rmatvec(X, R)
    parts = [backend.rmatvec(X, R[:, j : j + step]) for j in range(0, m, step)]
    return cxp.concat(parts, axis=1)


class _Columns:
    """Gathered dense columns, kept as the rows of a buffer that grows by doubling.

    Adding columns copies only them (and the gathered ones once per doubling, not
    at every addition, as concatenating would); the gathered matrix is a
    Fortran-ordered view of the buffer, which BLAS reads in place. The buffer holds
    at most ``limit`` columns beyond what is asked (the working sets stop at half
    of X's), so it stays smaller than X.
    """

    def __init__(self, xp, limit):
        self.xp, self.limit = xp, limit
        self.rows, self.k = None, 0

    def _grow(self, n, m, like):
        """Make room for ``m`` more columns of ``n`` rows; return the new count."""
        xp, k = self.xp, self.k + m
        if self.rows is None or k > self.rows.shape[0]:
            capacity = max(k, min(2 * k, self.limit))
            rows = xp.empty((capacity, n), dtype=like.dtype, device=device(like))
            if self.k:
                rows[: self.k, :] = self.rows[: self.k, :]
            self.rows = rows
        return k

    def append(self, backend, X, idx, offset=None):
        """Add the columns ``idx`` of X less ``offset`` (one per column, or None).

        Return the matrix of all gathered columns. The backend writes them into
        the buffer directly (``take_columns_into`` of
        :class:`~skgd._backend._dense.DenseBackend`): a copy of the columns,
        then of their centered transpose, took as long again.
        """
        k = self._grow(X.shape[0], idx.shape[0], X)
        backend.take_columns_into(X, idx, self.rows, self.k, offset)
        self.k = k
        return self.xp.matrix_transpose(self.rows[:k, :])

    def append_rows(self, block):
        """Add the rows of ``block`` as they are (rows of G: columns, G symmetric).

        Return the matrix of all gathered columns, as :meth:`append`.
        """
        k = self._grow(block.shape[1], block.shape[0], block)
        self.rows[self.k : k, :] = block
        self.k = k
        return self.xp.matrix_transpose(self.rows[:k, :])


def solve_working_set(
    objective,
    w0,
    c0,
    *,
    mode,
    max_iter,
    tol,
    solve_direct,
    verbose=0,
    callback=None,
    spaces=None,
):
    r"""Minimise an objective whose penalty has an L1 part, by growing working sets.

    Each outer step computes the gradient of the full problem at the current point
    (one pass ``X.T @ r``, or a product with the Gram matrix) and its duality gap,
    the stopping measure of :func:`~skgd.solvers._gd.solve_gd`; if the gap is above
    ``tol`` times the objective at zero, the set of columns grows by the features
    that violate the optimality condition ``|grad_j| <= alpha * l1_ratio`` most
    (``-grad_j <= alpha * l1_ratio`` with ``positive``: only a feature whose
    coefficient would grow can enter), ranked by the distance of the dual point to
    their constraint, ``(|grad_j| - alpha l1_ratio) / sqrt(d_j)`` with ``d_j`` the
    column's variance (the rule of celer, which makes the ranking independent of the
    features' scales), by at most the support's size (at least 16, up to 64 for the
    first set: the sets of celer and skglm are twice the support); then the problem
    restricted to the set is solved, warm-started, to a gap a fraction of the full
    one (a geometric schedule, as in celer and skglm; a subproblem on the gathered
    columns' Gram matrix, whose epochs cost far less than a check, to 0.9 ``tol``
    at once). With the squared loss the subproblem is its Gram matrix, built
    incrementally on dense X (columns once in the set stay there, so their products
    are computed once), by one sparse-times-sparse product of the set on sparse X
    (never densified), and solved by coordinate descent
    (:func:`~skgd.solvers._gram_enet.solve_gram_cd`), which correlated columns do
    not slow down as they slow a gradient step. When the gap of the full problem is
    small but no feature violates its condition, only the subproblem's accuracy is
    missing, and its tolerance is cut tenfold. The gap is a certificate for the full
    problem, so the answer does not depend on which features were tried.

    When the set would outgrow what gathering is worth (half of the features, or
    :data:`~skgd._planner.GRAM_MAX_FEATURES` with Gram subproblems; in the Gram
    form the set becomes the whole problem), or when the subproblem can make no
    more progress (rounding), the plain solver ``solve_direct`` finishes from the
    current point.

    Parameters
    ----------
    objective : LinearObjective
        The problem; its penalty has an L1 part (see :func:`working_set_mode`).
    w0 : array of shape (n_features,)
        Starting coefficients (their support starts the working set).
    c0 : float
        Starting offset of the centered model.
    mode : {"gram", "samples"}
        From :func:`working_set_mode`.
    max_iter : int
        Budget of subproblem iterations (each costs less than a pass over X).
    tol : float
        Duality gap of the full problem relative to the objective at zero.
    solve_direct : callable
        The plain solver, with the signature of :func:`~skgd.solvers._gd.solve_gd`.
    verbose : int, default=0
        Print one line per working set when positive.
    callback : callable or None, default=None
        Called as ``callback(iteration, w, objective_value)`` after each
        subproblem iteration, with the full coefficient vector.
    spaces : dict or None, default=None
        Kept by a caller that solves the same problem for several penalties (a
        path): the columns gathered, and their Gram matrix, are kept there and
        reused, and each solve starts from the previous one's working set plus
        the features the sequential strong rule keeps (from the previous
        solution's gradient), solving the subproblem before the first check.

    Returns
    -------
    result : SolverResult
        As from :func:`~skgd.solvers._gd.solve_gd`; ``extra["working_set_sizes"]`` lists
        the size of each subproblem solved and ``extra["checks"]`` counts the
        checks of the full problem (passes over X in mode ``"samples"``).

    References
    ----------
    M. Massias, A. Gramfort and J. Salmon, "Celer: a fast solver for the Lasso with
    dual extrapolation", ICML, 2018.
    Q. Bertrand, Q. Klopfenstein, P.-A. Bannier et al., "Beyond L1: faster and
    better sparse models with skglm", NeurIPS, 2022.
    """
    if not spaces:
        # (Along a path, the first penalty's check holds for the next.)
        check_support(objective.loss, objective.penalty, "working_set")
    if mode == "gram":
        objective = in_form(objective, "gram")
    cxp = objective.coef_xp
    ref, active, n_active, inv_norm = _fixed(objective, spaces)
    threshold = tol * ref
    # (l1, positive): the bound of the optimality conditions (one-sided with w >= 0).
    bound = objective.penalty.elastic_net_shape()[::2]
    c = c0 if objective.intercept_mode == "free" else objective.initial_offset()
    n_features = objective.n_features
    # Constant columns keep w_j = 0 (their gradient is masked): they never enter.
    w = cxp.where(active, w0, 0.0 * w0)
    # With few features in the Gram form, the full problem is the subproblem: its
    # own gap is the check, and no working set is worth its bookkeeping.
    complete = mode == "gram" and n_active <= _MIN_FEATURES
    space, cols, listed = _space(
        objective, mode, solve_direct, ref, spaces, w, complete
    )
    # (A check's gap at most this is not refined: see _quadratic_gap.)
    space.enough = threshold
    space.inner = _inner_solver(complete, threshold)
    # Along a path, the previous solution's gradient predicts the new support:
    # the subproblem is solved first and checked after (one check per alpha
    # where the prediction holds, instead of one before and one after).
    predicted = None
    if not complete:
        predicted = _strong_rule(space, w0, bound, cols, listed, inv_norm)
    cols = cols if predicted is None else predicted
    curve, sizes, n_checks = [], [], 0
    inner = math.inf

    on_iter = None
    if callback is not None:
        counter = [0]

        def on_iter(w_cols, value):
            counter[0] += 1
            callback(counter[0], scatter(cxp, n_features, cols, w_cols), value)

    def finish_direct(w, c):
        """Let the plain solver finish from ``(w, c)``."""
        budget = max(max_iter - len(curve), 0)
        kw = {"tol": tol, "verbose": verbose, "callback": callback}
        res = solve_direct(objective, w, c, max_iter=budget, **kw)
        return _after(res, curve, sizes, n_checks)

    def solve_on(w, c, threshold):
        """Solve the subproblem on ``cols`` from ``(w, c)``; record its curve."""
        sizes.append(int(cols.shape[0]))
        w_cols, c, sub_curve, gap = space.solve(
            cols,
            cxp.take(w, cols),
            c,
            threshold,
            max_iter - len(curve),
            on_iter,
            verbose,
            len(curve),
        )
        curve.extend(sub_curve)
        return scatter(cxp, n_features, cols, w_cols), c, sub_curve, gap

    if predicted is not None and cols.shape[0]:
        w, c, _, _ = solve_on(w, c, _INNER * threshold)
    while True:
        if complete:
            # The subproblem is the full problem: its gap is the one that counts.
            w, c, _, gap = solve_on(w, c, threshold)
            break
        grad_w, gap = space.check(w, c)
        n_checks += 1
        if verbose:
            _report(len(curve), cols.shape[0], gap / ref, tol)
        if gap <= threshold or len(curve) >= max_iter:
            # What the next penalty of a path predicts its set from.
            space.last = (w, grad_w, bound[0])
            break
        size = cols.shape[0]
        outside = active & ~_listed(cxp, n_features, cols, w)
        score, n_add = _violations(
            cxp, grad_w, w, bound, inv_norm, outside, space.room(size)
        )
        if size + n_add > space.limit:
            if mode == "samples":
                return finish_direct(w, c)
            # In the Gram form the full problem is as cheap to slice as a part.
            cols = cxp.concat([cols, cxp.nonzero(outside)[0]])
            # (Its own gap is the one that counts: measured by ours.)
            complete, space.inner = True, solve_gram_cd
            continue
        if n_add:
            cols = cxp.concat([cols, _top(cxp, score, n_add)])
            inner = max(space.inner_share * gap, _INNER * threshold)
        else:
            # Nothing violates: the subproblem's accuracy is what is missing,
            # measured by our gap from now on.
            space.inner = solve_gram_cd
            inner = 0.1 * min(inner, max(space.inner_share * gap, _INNER * threshold))
            if size == 0 or inner < 1e-4 * threshold:
                return finish_direct(w, c)
        w, c, sub_curve, _ = solve_on(w, c, inner)
        if n_add == 0 and not sub_curve:
            return finish_direct(w, c)

    extra = dict(measure=gap / ref, offset=c, checks=n_checks, working_set_sizes=sizes)
    coef, intercept = w, objective.intercept(w, c)
    return SolverResult(coef, intercept, len(curve), gap <= threshold, curve, extra)


def _listed(cxp, n_features, cols, w):
    """Return the mask of the features in ``cols``."""
    return scatter(cxp, n_features, cols, cxp.ones_like(cxp.take(w, cols))) > 0


def _quadratic_gap(space, w, grad_w, residual_sq):
    """Return the gap of the full problem of ``space`` with the squared loss at ``w``.

    The gap of :meth:`~skgd._objective.LinearObjective.duality_gap` (the same
    dual point, rounded toward the subdifferential the same way), written out
    for the elastic net, or the smaller gap of its lasso form where it has both
    an L1 and an L2 part (see :func:`~skgd.solvers._gram_enet.elastic_net_gap`).
    ``residual_sq`` returns ``sum_i u_i r_i**2`` times the loss curvature. A
    gap at most ``space.enough`` (the solve's threshold) is returned as soon as
    one form gives it.
    """
    objective = space.objective
    if space.rounding is None:
        # It depends on the data and the penalty's kind, not on its strength:
        # one per path, where each alpha's objective would compute it again.
        space.rounding = (rounding_bound(objective),)
    v, bound = -grad_w, space.rounding[0]
    if bound is not None:
        v = nearest_subgradient(objective.penalty, w, v, bound)
    return elastic_net_gap(
        objective.penalty, w, v, residual_sq, objective.coef_xp, enough=space.enough
    )


def _fixed(objective, spaces):
    """Return what the solve needs of the data alone, kept in ``spaces`` along a path.

    ``(ref, active, n_active, inv_norm)``: the objective at zero, the mask of the
    non-constant columns and its count, and ``1 / sqrt(d)`` with ``d`` the
    metric (the columns' variances, as an L1 penalty has it). None of them
    depends on the penalty's strength, and each alpha's objective would compute
    them again.
    """
    key = ("fixed", type(objective))  # (one per form)
    fixed = None if spaces is None else spaces.get(key)
    if fixed is None:
        cxp, active = objective.coef_xp, objective.active
        n_active = int(cxp.sum(cxp.astype(active, cxp.int64)))
        inv_norm = 1.0 / cxp.sqrt(objective.metric())
        fixed = (objective.reference_value(), active, n_active, inv_norm)
        if spaces is not None:
            spaces[key] = fixed
    return fixed


def _space(objective, mode, solve_direct, ref, spaces, w, complete):
    """Return the space of the solve, its first set and the mask of that set.

    The set is the support of ``w``: a space kept in ``spaces`` from a solve
    with another penalty is reused, and its last set (a superset of that
    solve's support) starts this one. The first check of the full problem
    needs the products of the support: its columns are gathered now. (No mask
    where the set is ``complete``.)
    """
    cxp = objective.coef_xp
    space = None if spaces is None else spaces.get(mode)
    if space is None:
        if mode == "gram":
            space = _GramSpace(objective, ref)
        else:
            space = _SampleSpace(objective, solve_direct, ref)
        if spaces is not None:
            spaces[mode] = space
    else:
        space.retarget(objective, ref)
    if complete:
        return space, cxp.nonzero(objective.active)[0], None
    listed = (
        scatter(cxp, w.shape[0], space.cols, cxp.ones_like(w[: space.cols.shape[0]]))
        > 0
    )
    support = w != 0
    cols = cxp.concat([space.cols, cxp.nonzero(support & ~listed)[0]])
    if cols.shape[0]:
        space.gather(cols)
    return space, cols, listed | support


def _strong_rule(space, w0, bound, cols, listed, inv_norm):
    """Return ``cols`` and the features the sequential strong rule adds, or None.

    ``bound`` is ``(l1, positive)``, ``listed`` the mask of ``cols``. Where
    ``w0`` is the solution of the previous solve in ``space`` (a path), at
    ``l1_prev``, with gradient ``g``, the rule of
    Tibshirani et al. (2012) predicts that the features with
    ``|g_j| < 2 l1 - l1_prev`` (``-g_j`` with ``positive``) stay at zero at
    ``l1``; the others (at most as many as :func:`_violations` adds, the best by
    its score) join the set (gathered now) before the first subproblem. A wrong
    prediction costs one more round (the check of the full problem catches it),
    never the certificate. None where there is no previous solution, or the set would
    outgrow the space.
    """
    last, space.last = space.last, None
    if last is None or last[0] is not w0:
        return None
    _, grad_w, l1_prev = last
    # The rule's bound, 2 l1 - l1_prev (one-sided with w >= 0 as the conditions).
    bound = (2.0 * bound[0] - l1_prev, bound[1])
    cxp = space.cxp
    candidates = space.objective.active & ~listed
    score, n_add = _violations(
        cxp, grad_w, w0, bound, inv_norm, candidates, strict=False
    )
    if cols.shape[0] + n_add > space.limit:
        return None
    cols = cxp.concat([cols, _top(cxp, score, n_add)])
    if cols.shape[0]:
        # (An empty set gathers nothing: a path whose first alphas are above
        # alpha_max keeps w = 0, and the rule adds no feature there.)
        space.gather(cols)
    return cols


def _top(cxp, score, n):
    """Return the indices of the ``n`` largest ``score`` (all >= 0), largest first."""
    # Sorting the violators alone: a sort of all of a wide X's scores cost more
    # than the rest of a check.
    (idx,) = cxp.nonzero(score >= 0)
    order = cxp.argsort(-cxp.take(score, idx), stable=True)
    return cxp.take(idx, order[:n])


def _violations(cxp, grad_w, w, bound, inv_norm, candidates, room=0, strict=True):
    """Return the celer scores of the ``candidates`` and how many of them to add.

    The score of a feature is the distance of the dual point to its constraint,
    ``(|grad_j| - l1) / sqrt(d_j)`` with ``bound = (l1, positive)``; with
    ``positive`` the constraint is one-sided, ``(-grad_j - l1) / sqrt(d_j)`` (a
    feature held at 0 by ``w_j >= 0`` does not violate it); those outside
    ``candidates`` get ``-inf``.
    The set grows by the violators (positive scores), at most as many as the
    support of ``w`` holds (at least :data:`_GROWTH`; up to :data:`_FIRST_SIZE`
    for the first set, where there is no support): the rule of celer and
    skglm, whose sets are twice the support. A set that grew by half the violators
    at once held thousands of columns of a wide X from the first step.

    With ``room`` (the columns the set may still gain) a set that grows from a
    support takes up to twice as many features as violate, at most twice the
    support and ``room`` beyond the violators: the violators first, then the
    features nearest to violating (scores above minus the largest; the scores
    returned are shifted up by the largest, so that :func:`_top` takes them).
    On 5,000 x 500 AR(1) lassos (rho 0.7 and 0.9, alpha_max / 20, 14 seeds)
    the violators alone took a fourth check of the full problem on 9 of 28,
    these on 2, for final sets of 92 columns on average instead of 79.
    """
    l1, positive = bound
    score = ((-grad_w if positive else cxp.abs(grad_w)) - l1) * inv_norm
    score = cxp.where(candidates, score, -math.inf)
    # (strict=False: ties with the bound count, as the strong rule has them.)
    violating = score > 0 if strict else score >= 0
    n_violating, nnz = count_true(cxp, violating), count_true(cxp, w != 0)
    if not (room > 0 and nnz and strict and n_violating):
        # (A first set of at most an eighth of the features: a small problem's
        # set keeps the room to grow that makes it a working set.)
        least = _GROWTH if nnz else max(_GROWTH, min(_FIRST_SIZE, w.shape[0] // 8))
        return score, min(n_violating, max(least, nnz))
    most = max(_GROWTH, 2 * nnz)
    score = score + float(cxp.max(score))
    n_near = count_true(cxp, score > 0)
    extra = min(2 * n_violating, most, n_near, max(n_violating, room))
    return score, max(min(n_violating, most), extra)


def _after(res, curve, sizes, n_checks):
    """Return the plain solver's result ``res`` after the working sets' ``curve``."""
    extra = dict(res.extra, working_set_sizes=sizes, checks=n_checks)
    return SolverResult(
        coef=res.coef,
        intercept=res.intercept,
        n_iter=len(curve) + res.n_iter,
        converged=res.converged,
        objective_curve=curve + list(res.objective_curve),
        extra=extra,
    )


def _report(n_iter, size, measure, tol):
    """Print the gap of the full problem after a check."""
    print(
        f"[gd working set] after {n_iter} iterations, {size} features: gap of "
        f"the full problem {measure:.3e} (tol {tol:.1e})"
    )
