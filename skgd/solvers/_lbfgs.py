# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Quasi-Newton solver: L-BFGS (scipy's L-BFGS-B) in the Jacobi metric.

For a smooth loss with no penalty or a pure L2 penalty, on the sample form
(:class:`~skgd._objective.LinearObjective`), including the multinomial log loss. A
limited-memory quasi-Newton metric learns the curvature that the diagonal metric of
the first-order solver (:mod:`skgd.solvers._gd`) cannot undo: correlated columns,
several classes, no strong convexity. It needs no Hessian, so it suits problems whose
Hessian is too large to form. :func:`lbfgs_applies` says which problems it takes,
:func:`solve_lbfgs` solves them with the contract of
:func:`~skgd.solvers._gd.solve_gd`.
"""

import dataclasses
import math
import time

from array_api_compat import is_numpy_array, is_numpy_namespace
from scipy.optimize import minimize

from skgd._backend._in_memory import InMemoryBackend
from skgd._backend._row_pass import (
    logistic_gradient,
    pass_blocks,
    row_pass,
    softmax_gradient,
)
from skgd._backend._threads import product_threads, serial_solver
from skgd._one_pass import balanced
from skgd.losses import LogLoss, MultinomialLogLoss
from skgd.losses._base import mix_dual
from skgd.solvers._gd import solve_gd
from skgd.solvers._newton import DECREMENT_SHARE, multinomial_newton
from skgd.solvers._result import SolverResult, check_finite_objective

# The duality gap (what the dual point needs in the pass, then an elementwise pass
# over the predictions) is first computed once the free proximal-gradient measure
# is within this factor of the threshold, then as :meth:`_Run.schedule` says. Each
# gap costs about one evaluation of the loss (the multinomial one's is the dearest
# part of a pass), and L-BFGS drives the gradient into the directions of low
# curvature, where the gap exceeds the free measure: on softmax problems (digits,
# 15,000 x 100 x 8) waiting for the free measure itself saved 10-35% of the time
# and no iteration.
_NEAR = 1.0
# Corrections kept by L-BFGS: 20 took 68 iterations on digits (10 classes, alpha
# 1e-4, tol 1e-4) against 78 with scipy's default 10 (30: 64); each costs two
# vectors of the size of w.
_MEMORY = 20
# Evaluations allowed per iteration on average (line-search trials): scipy's own
# limit must not end a run before max_iter does.
_EVALS_PER_ITER = 20

_DIVERGENCE_HINT = (
    "The data probably holds values so large that X @ w overflows; scale the features "
    "(e.g. with sklearn.preprocessing.StandardScaler) or use float64."
)


def lbfgs_applies(objective):
    """Return whether :func:`solve_lbfgs` can solve ``objective``.

    It takes the sample form (per-sample predictions) of a smooth loss with an
    elastic-net-family penalty (L2, L1, elastic net or none; an L1 part only with
    a duality gap, which certifies it), with coefficients in numpy: numpy dense
    arrays, scipy.sparse matrices and Dask arrays (each evaluation is one pass,
    one ``compute`` on Dask). Other Array API namespaces
    are left to the first-order solver (scipy works on numpy vectors).

    Parameters
    ----------
    objective : LinearObjective or GramObjective
        The problem, in either form (only the sample form qualifies).

    Returns
    -------
    applies : bool
        Whether :func:`solve_lbfgs` takes it.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd._backend import get_backend
    >>> from skgd._objective import LinearObjective
    >>> X, y = np.eye(3), np.array([1.0, -1.0, 1.0])
    >>> from skgd.losses import Hinge, LogLoss
    >>> from skgd.penalties import L1
    >>> make = lambda loss: LinearObjective(get_backend(X), X, y, loss, L1(0.1))
    >>> lbfgs_applies(make(LogLoss())), lbfgs_applies(make(Hinge()))
    (True, False)
    """
    weights = objective.penalty.elastic_net_weights()
    return (
        getattr(objective, "form", None) == "samples"
        and objective.per_sample
        and objective.loss.is_smooth
        and weights is not None
        # An L1 part needs the duality gap: nothing else certifies it.
        and (weights[0] == 0.0 or objective.has_duality_gap)
        and is_numpy_namespace(objective.coef_xp)
    )


def solve_lbfgs(objective, w0, c0, *, max_iter, tol, verbose=0, callback=None):
    r"""Minimise a smooth, elastic-net-penalized :class:`LinearObjective` by L-BFGS.

    **Variables.** L-BFGS runs on ``x = (sqrt(d) * w, c)``, ``d`` the diagonal
    (Jacobi) metric of :meth:`~skgd._forms.CenteredModel.metric`: there the data
    Hessian has a unit diagonal, so the quasi-Newton metric starts from a
    well-scaled problem whatever the features' scales, and no step size is tuned
    (the line search of L-BFGS-B sets it). ``c`` is the offset of the centered
    model, a variable only for a free intercept. Each evaluation makes one pass
    over X for the value and the gradient together
    (:meth:`LinearObjective.pass_terms`, one ``compute`` on Dask; for the
    multinomial log loss on data in memory, one softmax,
    :func:`~skgd._backend._row_pass.softmax_gradient`, whose gradient is kept
    for the dual point of the gap, and on a numpy X whose products run on one
    thread both products of each cache-sized block of rows while it is in the
    cache, :func:`~skgd._backend._row_pass.row_pass`); scipy works in float64
    on the small vector ``x`` only, X keeps its dtype.

    **L1.** With an L1 part ``l1 ||w||_1`` the variables are split, ``x = (sqrt(d)
    w+, sqrt(d) w-, c)`` with ``w = w+ - w-`` and both parts bounded below by 0:
    the penalty becomes the linear ``l1 sum(w+ + w-)``, the problem smooth with
    bounds, which L-BFGS-B solves (its projected steps set coefficients exactly to
    0). At the solution ``w+`` and ``w-`` are not both positive, so it is the
    elastic net's; the objective at ``w`` is never above the split one's. On
    standardized digits (10 classes, L1 at the default alpha) 154 iterations
    meet the default ``tol`` where ``"gd"`` used its 1,000 without.

    **Stopping.** ``tol`` bounds, relative to
    :meth:`~skgd._forms.CenteredModel.reference_value`, the same measure as
    :func:`~skgd.solvers._gd.solve_gd`:

    - with an L1 or L2 strength, the duality gap (an upper bound on the suboptimality),
      checked after each iteration once the free proximal-gradient measure (the
      decrease one more gradient step would guarantee) is below the threshold:
      the passes then also return what the dual point needs, and each gap costs
      one more elementwise pass (over the kept gradient, or over the predictions;
      no product with X). scipy's
      own tests are disabled, so a run stops on the gap, on ``max_iter``, or when
      the line search can no longer tell a decrease (near a relative gap of
      ``1e-11``, rounding): the run is then finished by
      :func:`~skgd.solvers._gd.solve_gd` from where it stands, whose steps are
      tested on curvature rather than on objective differences, on the same
      measure (its iterations count in ``n_iter``);
    - without a penalty (or without a duality gap) the run stops when the
      proximal-gradient measure is below ``tol``, which bounds nothing (nor do
      L-BFGS's curvature pairs); for the multinomial log loss with
      ``n_classes * (n_features + 1)`` up to 1,024 Newton steps with the exact
      softmax Hessian then follow until half the squared Newton decrement is
      within half the threshold (:func:`_newton_finish`; they count in
      ``n_iter``). Elsewhere it reports ``converged=False`` with
      ``extra["certified"] = False``, so that the estimator warns that the
      result is not certified.

    **Threads.** scipy's iterations run on one BLAS thread where the fit is
    alone in its process (:func:`~skgd._backend._threads.serial_solver`: its
    small calls on two threads took 10-50x longer with the cores shared); the
    passes over a dense X run on the calling thread (see
    :meth:`~skgd._backend._dense.DenseBackend.matvec`), those over a numpy X too
    large for that on the threads the process had.

    Without a penalty on an underdetermined problem the metric is the identity
    (see :meth:`~skgd._forms.CenteredModel.metric`); L-BFGS steps are
    combinations of gradients, so from zero the iterates stay in the row space
    of X.

    Parameters
    ----------
    objective : LinearObjective
        The problem; :func:`lbfgs_applies` must hold.
    w0 : array of shape (n_features,) or (n_features, n_outputs)
        Starting coefficients.
    c0 : float or array of shape (n_outputs,)
        Starting offset of the centered model (ignored unless the intercept is free).
    max_iter : int
        Maximum number of L-BFGS iterations (each one or more passes over X).
    tol : float
        The tolerance of the stopping measure above.
    verbose : int, default=0
        When positive, a line per iteration: objective, measure, time.
    callback : callable or None, default=None
        ``callback(iteration, w, objective_value)``, called after each iteration.

    Returns
    -------
    result : SolverResult
        The solution, with ``n_iter`` the L-BFGS iterations and one objective value
        per iteration; ``extra["measure"]`` holds the final stopping measure
        relative to the reference, ``extra["offset"]`` the centered offset ``c``,
        ``extra["certified"]`` whether that measure bounds the suboptimality and
        ``extra["n_evaluations"]`` the passes over X.

    References
    ----------
    D. C. Liu and J. Nocedal, "On the limited memory BFGS method for large scale
    optimization", Math. Program., 1989; R. H. Byrd, P. Lu, J. Nocedal and C. Zhu,
    "A limited memory algorithm for bound constrained optimization", SIAM J. Sci.
    Comput., 1995 (L-BFGS-B, as wrapped by :func:`scipy.optimize.minimize`).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd._backend import get_backend
    >>> from skgd._objective import LinearObjective
    >>> from skgd.losses import LogLoss
    >>> from skgd.penalties import L2
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3))
    >>> y = np.where(X[:, 0] + rng.standard_normal(50) > 0, 1.0, -1.0)
    >>> objective = LinearObjective(get_backend(X), X, y, LogLoss(), L2(0.01))
    >>> res = solve_lbfgs(objective, np.zeros(3), 0.0, max_iter=100, tol=1e-10)
    >>> res.converged, res.extra["measure"] <= 1e-10
    (True, True)
    """
    if not lbfgs_applies(objective):
        raise ValueError(
            "solve_lbfgs takes a smooth loss with no penalty or an L2 penalty, in "
            "the sample form, with numpy coefficients."
        )
    run = _Run(objective, tol=tol, verbose=verbose, callback=callback)
    with serial_solver(objective.X):
        res = run.result(run.minimize(w0, c0, max_iter))
    if not run.use_gap:
        return _newton_finish(objective, res, run, max_iter=max_iter)
    if run.use_gap and not res.converged and res.n_iter < max_iter:
        res = _polish(
            objective,
            res,
            max_iter=max_iter,
            tol=tol,
            verbose=verbose,
            callback=callback,
        )
    return res


def _polish(objective, res, *, max_iter, tol, verbose, callback):
    """Finish with the first-order solver a run that L-BFGS ended uncertified.

    Near the rounding level of the objective (a relative gap of about ``1e-11``)
    the line search of L-BFGS can no longer tell a decrease, and scipy stops. The
    accelerated proximal gradient of :func:`~skgd.solvers._gd.solve_gd` tests its
    steps on the curvature along them, not on objective differences, so it goes on
    to a tight ``tol`` from there, on the same certified measure; its iterations
    count after those of L-BFGS.
    """
    first = res.n_iter

    def shifted(iteration, w, value):
        callback(first + iteration, w, value)

    more = solve_gd(
        objective,
        res.coef,
        res.extra["offset"],
        max_iter=max_iter - first,
        tol=tol,
        verbose=verbose,
        callback=None if callback is None else shifted,
    )
    extra = {
        **res.extra,
        "measure": more.extra["measure"],
        "offset": more.extra["offset"],
        "n_evaluations": res.extra["n_evaluations"] + more.n_iter,
        "polish_iter": more.n_iter,
    }
    curve = res.objective_curve + more.objective_curve
    n_iter = first + more.n_iter
    return SolverResult(more.coef, more.intercept, n_iter, more.converged, curve, extra)


def _newton_finish(objective, res, run, *, max_iter):
    """Certify a run without a duality gap by Newton steps with the exact Hessian.

    The quasi-Newton metric of L-BFGS is no bound: without a gap the run stops on
    the proximal-gradient measure, a lower bound on the suboptimality. For the
    multinomial log loss with ``n_classes * (n_features + 1)`` small
    (:func:`~skgd.solvers._newton.multinomial_newton`), Newton steps with the
    exact softmax Hessian, each with a backtracking line search, follow until
    half the squared Newton decrement is within half the threshold (the
    decrement bounds the suboptimality, within the factor 2 of a
    self-concordant function, see :func:`~skgd.solvers._newton.newton_decrement`);
    the step it predicts is then taken too, as :func:`~skgd.solvers._newton.
    solve_newton` does. The steps count in ``n_iter``. Elsewhere the result
    stays uncertified (``extra["uncertified"]``).
    """
    w, c = res.coef, res.extra["offset"]
    raw = objective.raw(w, c)
    value = objective.value(w, raw)
    n_iter, curve = res.n_iter, list(res.objective_curve)
    decrement = None
    while True:
        step = multinomial_newton(objective, w, c)
        if step is None:
            return res
        decrement, dw, dc = step
        certified = decrement <= DECREMENT_SHARE * run.threshold
        if n_iter >= max_iter:
            break
        new = _newton_line_search(objective, w, c, raw, value, dw, dc, decrement)
        if new is None:
            break
        w, c, raw, value = new
        n_iter += 1
        curve.append(value)
        if run.callback is not None:
            run.callback(n_iter, w, value)
        if run.verbose:
            print(
                f"[lbfgs] newton {n_iter:4d}  objective {value:.8e}  decrement "
                f"{decrement / run.ref:.3e} (tol {run.threshold / run.ref:.1e})"
            )
        if certified:
            break
    extra = {**res.extra, "measure": decrement / run.ref, "offset": c}
    extra["certified"] = certified
    if certified:
        extra.pop("uncertified", None)
    intercept = objective.intercept(w, c)
    return SolverResult(w, intercept, n_iter, certified, curve, extra)


def _newton_line_search(objective, w, c, raw, value, dw, dc, decrement):
    """Return ``(w, c, raw, value)`` after a backtracking Newton step, or None.

    The step is halved until the objective decreases by ``1e-4`` of the decrease
    it predicts (``2 * decrement`` for the full step), with an allowance of a few
    ulps of the objective for the last steps; None where none is found.
    """
    dw, dc = (objective.coef_xp.astype(a, w.dtype) for a in (dw, dc))
    draw = objective.raw(dw, dc)  # (raw is linear in (w, c))
    noise = 16.0 * float(objective.coef_xp.finfo(w.dtype).eps) * abs(value)
    t = 1.0
    for _ in range(40):
        raw_t = raw + t * draw
        w_t = w + t * dw
        value_t = objective.value(w_t, raw_t)
        if math.isfinite(value_t) and value_t <= value - 2e-4 * t * decrement + noise:
            return w_t, c + t * dc, raw_t, value_t
        t *= 0.5
    return None


class _StopRequestError(Exception):
    """Raised by the iteration callback when the stopping measure is met.

    (A private exception, not StopIteration: scipy before 1.11 lets any exception
    of a callback through, but catches StopIteration only from 1.11 on.)
    """


@dataclasses.dataclass
class _Eval:
    """One evaluation: a point ``x``, its coefficients, predictions and pass terms.

    ``value`` is the objective at ``w``; ``smooth`` what L-BFGS minimises at ``x``
    (the same, but for an L1 part: its linear term, at least ``l1 ||w||_1``).
    """

    x: object
    w: object
    c: object
    raw: object
    terms: dict
    value: float
    smooth: float
    grad_x: object


class _Run:
    """The function L-BFGS minimises, its stopping test and its record.

    ``fun(x)`` returns the objective and its gradient in ``x = (sqrt(d) w, c)``
    from one pass; the latest evaluation is kept, so the iteration callback (which
    scipy calls at the point it last evaluated) measures it without another pass.
    """

    def __init__(self, objective, *, tol, verbose, callback):
        self.objective = objective
        self.cxp = cxp = objective.coef_xp
        self.free_c = objective.intercept_mode == "free"
        self.l1, self.l2 = objective.penalty.elastic_net_weights()
        self.d = objective.metric()
        ones = cxp.ones(objective.coef_shape, dtype=cxp.float64)
        self.root_d = cxp.reshape(cxp.sqrt(cxp.astype(self.d, cxp.float64)) * ones, -1)
        self.n_w = self.root_d.shape[0]
        # With an L1 part, x holds sqrt(d) times the positive and the negative
        # parts of w, each bounded below by 0 (see solve_lbfgs).
        self.n_v = 2 * self.n_w if self.l1 else self.n_w
        self.use_gap = objective.has_duality_gap and (self.l1 > 0 or self.l2 > 0)
        self.fused = _fuses(objective)
        self.ref = objective.reference_value()
        self.threshold = tol * self.ref
        curv = float(objective.loss.curvature_bound or 1.0)
        L = curv * max(objective.curvature_floor(), 1.0 if self.free_c else 0.0)
        self.L = L if L > 0 else curv
        self.verbose, self.callback = verbose, callback
        self.want_dual = False
        # Iterations (and gaps) of the gaps computed, and when the next is due.
        self.checks, self.next_check = [], None
        # The largest dual value found, with its (loss dual, scaling, X_c.T theta).
        self.best_dual = (-math.inf, None)
        self.last = None
        self.last_measure = math.inf
        self.n_iter, self.n_eval, self.curve = 0, 0, []
        self.start_time = time.perf_counter()

    def minimize(self, w0, c0, max_iter):
        """Run L-BFGS-B from ``(w0, c0)``; return the evaluation where it ended."""
        x0 = self.pack(w0, self.offset(c0))
        start = self.evaluate(x0, dual_terms=False, zero=not bool(self.cxp.any(w0)))
        _check_finite(start.value, 0)
        if self.use_gap and self.cheap_measure(start) <= _NEAR * self.threshold:
            # A start near the optimum (a warm start): its gap may end the run
            # before an iteration. Elsewhere the gap, at least the free measure,
            # is above the threshold, and the pass skips the dual point's terms.
            start = self.evaluate(x0, dual_terms=True)
        self.last_measure = self.measure(start)
        if self.last_measure <= self.threshold:
            return start
        options = {
            "maxiter": max_iter,
            "maxfun": _EVALS_PER_ITER * max(max_iter, 1),
            "maxcor": _MEMORY,
            # scipy's own tests off: the run stops on the measure (see solve_lbfgs)
            "ftol": 0.0,
            "gtol": 0.0,
            "maxls": 50,
        }
        bounds = None
        if self.l1:
            n_c = start.x.shape[0] - self.n_v
            bounds = [(0.0, None)] * self.n_v + [(None, None)] * n_c
        try:
            found = minimize(
                self.fun,
                start.x,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                callback=self.after_iteration,
                options=options,
            )
        except _StopRequestError:
            return self.last
        return self.at(found.x)

    def offset(self, c0):
        """Return the starting offset: ``c0`` if free, else the objective's own."""
        return c0 if self.free_c else self.objective.initial_offset()

    def pack(self, w, c):
        """Return the float64 vector ``x = (sqrt(d) w, c)`` (``c`` if free).

        With an L1 part, ``sqrt(d) w`` is split into its positive part and its
        negative part's magnitude.
        """
        cxp = self.cxp
        v = cxp.reshape(cxp.astype(cxp.asarray(w), cxp.float64), -1) * self.root_d
        parts = [cxp.maximum(v, 0.0), cxp.maximum(-v, 0.0)] if self.l1 else [v]
        return self.join(parts, c)

    def join(self, parts, c):
        """Return the vector of the ``parts`` of ``x`` in ``w``, then ``c`` if free."""
        cxp = self.cxp
        if self.free_c:
            parts = [*parts, cxp.reshape(cxp.asarray(c, dtype=cxp.float64), -1)]
        return cxp.concat(parts)

    def unpack(self, x):
        """Return ``(w, c)`` at ``x``, in the objective's dtype and shapes."""
        objective, cxp = self.objective, self.cxp
        v = x[: self.n_w]
        if self.l1:
            v = v - x[self.n_w : self.n_v]
        w = cxp.reshape(v / self.root_d, objective.coef_shape)
        w = cxp.astype(w, objective.dtype)
        if not self.free_c:
            return w, self.objective.initial_offset()
        c = x[self.n_v :]
        if objective.n_outputs == 1:
            return w, float(c[0])
        return w, cxp.astype(c, objective.dtype)

    def evaluate(self, x, *, dual_terms, zero=False):
        """Return the :class:`_Eval` at ``x``: value and gradient from one pass.

        With ``zero`` (``w = 0``, as a fit starts) on a numpy X the predictions
        are the offset alone: no product with X (``X @ 0`` is exactly 0 for the
        finite X that validation lets through).
        """
        objective, cxp = self.objective, self.cxp
        x = cxp.asarray(x, dtype=cxp.float64, copy=True)
        w, c = self.unpack(x)
        with product_threads(objective.X, objective.n_outputs):
            if self.fused:
                raw, terms = _fused_terms(objective, w, c, dual_terms, zero=zero)
            elif not dual_terms and (blocks := _logistic_blocks(objective)):
                raw, terms = _logistic_terms(objective, w, c, blocks, zero)
            else:
                if zero and is_numpy_array(objective.X):
                    shape = (objective.n_samples, *objective.coef_shape[1:])
                    raw = objective.xp.zeros(shape, dtype=objective.dtype) + c
                else:
                    (raw,) = objective.backend.persist(objective.raw(w, c))
                terms = objective.pass_terms(
                    raw, None, raw, losses=(objective.loss,), dual_terms=dual_terms
                )
        self.n_eval += 1
        value = terms["values"][0] + objective.penalty_value(w)
        gw, gc = terms["grad"]
        if self.l2:
            gw = gw + self.l2 * w
        # The chain rule of w = v / sqrt(d); with an L1 part, of v = v+ - v-, and
        # the L1 term is l1 (v+ + v-) / sqrt(d), linear.
        cxp = self.cxp
        g = cxp.reshape(cxp.astype(gw, cxp.float64), -1) / self.root_d
        smooth, t = value, None
        if self.l1:
            # In float64 on x: at a point where both parts are positive, more than
            # the objective at w.
            plus, minus = x[: self.n_w], x[self.n_w : self.n_v]
            t = self.l1 / self.root_d
            smooth = terms["values"][0] + float(cxp.sum(t * (plus + minus)))
            if self.l2:
                w64 = (plus - minus) / self.root_d
                smooth += 0.5 * self.l2 * float(cxp.sum(w64 * w64))
        grad = self.join([g + t, t - g] if self.l1 else [g], gc)
        self.last = _Eval(x, w, c, raw, terms, value, smooth, grad)
        return self.last

    def at(self, x):
        """Return the evaluation at ``x``: the latest one, or a new pass."""
        last = self.last
        if last is not None and bool(self.cxp.all(last.x == x)):
            return last
        return self.evaluate(x, dual_terms=self.want_dual)

    def fun(self, x):
        """Return the objective and its gradient at ``x`` (what scipy minimises)."""
        ev = self.at(x)
        if not math.isfinite(ev.value):
            # Too long a line-search step overflowed: let the search shorten it.
            return math.inf, self.cxp.zeros_like(ev.grad_x)
        return ev.smooth, ev.grad_x

    def after_iteration(self, x):
        """Record the iteration ending at ``x``; stop the run once done."""
        ev = self.at(x)
        self.n_iter += 1
        self.curve.append(ev.value)
        _check_finite(ev.value, self.n_iter)
        self.last_measure = self.measure(ev)
        if self.verbose:
            print(
                f"[lbfgs] iter {self.n_iter:4d}  objective {ev.value:.8e}  "
                f"measure {self.last_measure / self.ref:.3e} "
                f"(tol {self.threshold / self.ref:.1e})  "
                f"{time.perf_counter() - self.start_time:.2f}s"
            )
        if self.callback is not None:
            self.callback(self.n_iter, ev.w, ev.value)
        if self.last_measure <= self.threshold:
            raise _StopRequestError

    def cheap_measure(self, ev):
        """Return the proximal-gradient measure ``L/2 ||w - prox(..)||_D^2``.

        The decrease one more gradient step of the first-order solver would
        guarantee: free (no pass), a lower bound on the gap at the scale ``L``.
        """
        objective, cxp = self.objective, self.cxp
        gw, gc = ev.terms["grad"]
        step = 1.0 / (self.L * self.d)
        dw = ev.w - objective.penalty.prox(ev.w - step * gw, step)
        sq = float(cxp.sum(self.d * dw * dw))
        if self.free_c:
            sq += float(cxp.sum(cxp.asarray(gc, dtype=cxp.float64) ** 2)) / self.L**2
        return 0.5 * self.L * sq

    def measure(self, ev):
        """Return the stopping measure at ``ev`` (``inf`` while not certifiable).

        With a gap: the gap where the pass returned the dual point's terms, else
        ``inf``; the passes return those terms for the iterations that
        :meth:`schedule` picks. Without: the cheap measure itself.
        """
        cheap = self.cheap_measure(ev)
        if not self.use_gap:
            return cheap
        gap = math.inf
        if _has_dual_terms(self.objective, ev.terms):
            gap = self.gap(ev)
            if self.n_iter:
                self.next_check = self.n_iter + self.schedule(gap)
        elif self.next_check is None and cheap <= _NEAR * self.threshold:
            self.next_check = self.n_iter + 1
        self.want_dual = self.next_check is not None and (
            self.n_iter + 1 >= self.next_check
        )
        return gap

    def schedule(self, gap):
        """Return the number of iterations until the next gap is worth computing.

        The gap falls about geometrically: the rate between the last two gaps
        predicts the iterations left until ``tol``; the next gap is computed
        half-way there (so the run overshoots by few iterations when the rate
        slows), at most twice as far as the last two gaps were apart, and at the
        next iteration while no rate is known.
        """
        previous = self.checks[-1] if self.checks else None
        self.checks.append((self.n_iter, gap))
        if previous is None or not 0.0 < gap < previous[1] < math.inf:
            return 1
        since = self.n_iter - previous[0]
        left = math.log(gap / self.threshold) * since / math.log(previous[1] / gap)
        # The gap of L-BFGS iterates is not monotone: a rate from two close
        # gaps can be far too slow, so the wait at most doubles.
        return max(1, min(int(0.5 * left), 2 * since))

    def gap(self, ev):
        """Return the duality gap at ``ev`` (one elementwise pass over ``raw``).

        The dual point is made at ``ev``'s gradient, but any feasible dual point
        bounds the suboptimality of any primal point: the gap pairs the objective
        at ``ev`` with the best dual point made so far. (The gaps of the iterates'
        own dual points go up and down by factors of 2-3 near the end, as their
        gradients do; the best dual value only rises.)
        """
        objective = self.objective
        if not _has_dual_terms(objective, ev.terms):
            ev = self.evaluate(ev.x, dual_terms=True)
        shift, v = objective.dual_point(ev.terms)
        k = objective.dual_scale(v, ev.terms)
        if k is not None:
            if "raw_grad" in ev.terms:
                loss_dual = _fused_dual(objective, ev.terms["raw_grad"], shift, k)
            else:
                duals = (shift, [(objective.loss, k)])
                terms = objective.pass_terms(None, ev.raw, None, duals=duals)
                loss_dual = terms["duals"][0]
            dual = (loss_dual, k, v)
            value = dual[0] - objective.penalty.conjugate(k * v)
            if math.isfinite(value) and not value <= self.best_dual[0]:
                self.best_dual = (value, dual)
        if self.best_dual[1] is None:
            return math.inf
        return objective.gap(ev.value, *self.best_dual[1])

    def result(self, ev):
        """Return the :class:`SolverResult` at ``ev``."""
        objective = self.objective
        measure = self.last_measure
        if self.use_gap and not measure <= self.threshold:
            # Ended by scipy (line search at the rounding level) or by max_iter:
            # the gap decides.
            measure = self.gap(ev)
        certified = self.use_gap
        extra = {
            "measure": measure / self.ref,
            "offset": ev.c,
            "certified": certified,
            "n_evaluations": self.n_eval,
        }
        if not certified:
            extra["uncertified"] = (
                "without a penalty L-BFGS has no measure that bounds the "
                "suboptimality (its proximal-gradient measure is "
                f"{measure / self.ref:.2e}); add a small alpha with penalty='l2' "
                "for a certified fit"
            )
        converged = certified and measure <= self.threshold
        intercept = objective.intercept(ev.w, ev.c)
        return SolverResult(ev.w, intercept, self.n_iter, converged, self.curve, extra)


def _logistic_blocks(objective):
    """Return the blocks of :func:`_logistic_terms` for ``objective``, or None.

    For the binary log loss itself on a numpy X whose products run on one
    thread (:func:`~skgd._backend._row_pass.pass_blocks`).
    """
    if type(objective.loss) is not LogLoss:
        return None
    return pass_blocks(objective.X, 1)


def _logistic_terms(objective, w, c, blocks, zero):
    """Return ``raw`` and ``pass_terms(raw, None, raw)``'s terms for the log loss.

    Without the dual point's terms: the value, the gradient and ``theta_sum``,
    from one read of X by blocks of rows, each block's gradient between its two
    products (:func:`~skgd._backend._row_pass.row_pass`); on 5,000 x 500 (one
    thread) 1.0 against 1.45 ms for the products as two passes. An evaluation
    that needs the dual point's terms (a gap is due) makes the backend's pass.
    """
    xp, u, n = objective.xp, objective.u, objective.n_samples
    minus_y = -objective.y
    minus_yu = minus_y * u
    z = xp.empty(n, dtype=objective.dtype)
    g = xp.empty(n, dtype=objective.dtype)

    def gradient(rows, raw_rows):
        return logistic_gradient(
            raw_rows, minus_y[rows], minus_yu[rows], z[rows], g[rows]
        )

    shift = objective.intercept(w, c)
    raw, product = row_pass(objective.X, w, shift, gradient, blocks, zero=zero)
    # log(1 + exp(z)), as LogLoss.pointwise writes it, of all rows at once.
    values = xp.log1p(xp.exp(-xp.abs(z))) + xp.maximum(z, 0.0)
    sum_g = objective.coef_value(xp.sum(g))
    terms = {
        "values": [float(u @ values)],
        "grad": objective.chain(product, sum_g),
        "theta_sum": -sum_g,
    }
    return raw, terms


def _fuses(objective):
    """Whether :func:`_fused_terms` can replace ``pass_terms`` for ``objective``.

    For the multinomial log loss itself (:func:`~skgd._backend._row_pass.
    softmax_gradient` is its loss and gradient) on data in memory, whose balanced
    dual point (with an intercept) needs no parts.
    """
    return (
        type(objective.loss) is MultinomialLogLoss
        and isinstance(objective.backend, InMemoryBackend)
        and not objective.balance_part_count
    )


def _fused_terms(objective, w, c, dual_terms, *, zero=False):
    """Return ``raw`` at ``(w, c)`` and the terms of ``pass_terms(raw, None, raw)``.

    The value and the weighted gradient of the loss come from one softmax
    (:func:`~skgd._backend._row_pass.softmax_gradient`, for each block of rows of
    a pass that reads X once, :func:`~skgd._backend._row_pass.row_pass`, where
    the products run on one thread); the gradient is kept as ``"raw_grad"``
    (``u * gradient``), so the duality gap at ``raw`` (:func:`_fused_dual`) needs
    no second softmax. With ``zero`` (``w = 0``) on a numpy X the predictions are
    the offset alone (``X @ 0`` is exactly 0 for the finite X that validation lets
    through).
    """
    loss, u, X, xp = objective.loss, objective.u, objective.X, objective.xp
    n_samples, n_classes = objective.n_samples, objective.n_outputs
    labels = xp.astype(objective.y, xp.int64)
    values = xp.empty(n_samples, dtype=objective.dtype)
    g = xp.empty((n_samples, n_classes), dtype=objective.dtype)

    def gradient(rows, raw_rows):
        return softmax_gradient(raw_rows, labels[rows], u[rows], values[rows], g[rows])

    blocks = pass_blocks(X, n_classes)
    if blocks is None:
        if zero and is_numpy_array(X):
            raw = xp.zeros((n_samples, n_classes), dtype=objective.dtype) + c
        else:
            raw = objective.raw(w, c)
        product = objective.backend.rmatvec(X, gradient(slice(None), raw))
    else:
        # One read of X: each block's softmax between its two products.
        shift = objective.intercept(w, c)
        raw, product = row_pass(X, w, shift, gradient, blocks, zero=zero)
    sum_g = objective.coef_value(objective.xp.sum(g, axis=0))
    terms = {
        "values": [float(u @ values)],
        "grad": objective.chain(product, sum_g),
        "theta_sum": -sum_g,
        "raw_grad": g,
    }
    if dual_terms and balanced(objective):
        extremes = loss.balance_extremes(objective.y, -g, u)
        terms["extremes"] = tuple(objective.xp.max(e, axis=0) for e in extremes)
    return raw, terms


def _fused_dual(objective, g, shift, k):
    """Return the loss's dual value at ``k`` times the dual point made from ``g``.

    ``g`` is the ``"raw_grad"`` of :func:`_fused_terms`; ``shift`` the balancing
    (or centering) of :meth:`LinearObjective.dual_point`.
    """
    loss, y, u = objective.loss, objective.y, objective.u
    theta = -g
    if balanced(objective):
        theta = mix_dual(theta, (), loss.balance_anchor(y, u), u, *shift)
    elif objective.fit_intercept:
        theta = theta - objective.per_sample_shape(u) * shift
    return float(loss.dual_value(y, k * theta, u))


def _has_dual_terms(objective, terms):
    """Whether a pass returned what a dual point needs (see ``pass_terms``)."""
    return any(key in terms for key in ("box", "extremes")) or (
        objective.n_outputs > 1 and not objective.fit_intercept
    )


def _check_finite(value, iteration):
    """Raise the divergence error if ``value`` is not finite."""
    check_finite_objective(
        value,
        step_name="line-search step",
        step=math.nan,
        iteration=iteration,
        hint=_DIVERGENCE_HINT,
    )
