# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Full-batch solver: proximal Newton for smooth losses of one output.

Each outer step makes one pass over the data for the per-sample gradient and
curvature, and one for the weighted Gram matrix of the data (the Hessian of the
loss part); the penalized quadratic model is then minimised in coefficient space
(a linear solve for ridge and no penalty, the Gram elastic-net solver of
:mod:`skgd.solvers._gram_enet` for an L1 part) and a backtracking line search on
the true objective takes the step. It knows nothing of the estimator; which
problems it is chosen for is in :mod:`skgd.solvers._routing`.
"""

import math
import time
from dataclasses import dataclass

from skgd._backend._dense import serial_blas
from skgd._contract import check_support
from skgd.solvers._gram_enet import _newton_step, solve_gram_enet
from skgd.solvers._result import SolverResult, check_finite_objective

# Sufficient decrease of the line search (Armijo), and its halvings at most.
_ARMIJO = 1e-4
_MAX_HALVINGS = 40
# Relative ridge added to the model's Hessian: it keeps the linear solve defined
# where the Hessian is singular (separable classes without a penalty, a Huber fit
# with fewer inliers than features); the line search corrects the step it biases.
_RIDGE = 1e-10
# The inner problem of an L1 part is solved to this share of the outer measure
# (times the relative outer measure: see _ProxNewton.direction).
_INNER_SHARE = 0.01
_INNER_MAX_ITER = 2000


def solve_newton(objective, w0, c0, *, max_iter, tol, verbose=0, callback=None):
    r"""Minimise a :class:`~skgd._objective.LinearObjective` by proximal Newton.

    **Outer step.** At ``(w, c)`` one pass gives the per-sample gradient ``g`` and
    second derivative ``h`` of the loss (:meth:`~skgd.losses.Loss.hessian`); the
    Hessian of the loss part in ``w`` is the weighted Gram matrix
    ``H = X_v.T diag(u h) X_v``, with ``X`` centered by its means under the weights
    ``u h`` when the intercept is free: that eliminates ``c`` from the quadratic
    model exactly (its Schur complement), so the model is in ``w`` alone and ``c``
    follows in closed form. On dense data ``H`` is one BLAS ``syrk`` over row
    blocks; on sparse data one sparse-times-sparse product (X is never densified).
    ``H`` and the model are in float64 whatever the data's dtype (they are
    ``p x p``).

    **Inner problem.** The quadratic model plus the penalty: for ridge and no
    penalty one linear solve of ``(H + l2 I) d = -grad``; with an L1 part the
    elastic net on the Gram matrix ``H`` (:func:`~skgd.solvers._gram_enet.
    solve_gram_enet`, FISTA in the Jacobi metric polished by exact solves on the
    support), warm-started at ``w`` and solved to a duality gap of
    ``1%`` of the outer measure (looser early, tighter near the end). A
    relative ridge of ``1e-10`` keeps a singular ``H`` solvable.

    **Line search.** Backtracking from the full step until the true objective
    decreases by ``1e-4`` of the model's predicted decrease (Armijo), so the
    iteration is monotone; the step's predictions are one ``X @ dw``, and each
    halving costs no product with X.

    **Stopping.** ``tol`` bounds, relative to the objective at zero coefficients
    (:meth:`reference_value`), a certified measure:

    - with a penalty strength, the duality gap, exactly as
      :func:`~skgd.solvers._gd.solve_gd` (an upper bound on the suboptimality);
    - without one, half the squared Newton decrement with the exact Hessian of
      ``(w, c)``, ``grad.T H^-1 grad / 2``: the decrease the Newton step
      predicts. It equals the suboptimality where the loss is quadratic between
      the point and the optimum (huber and the epsilon-insensitive squared loss
      once their pieces are settled) and bounds it up to a factor that tends to
      one as the decrement vanishes for the self-concordant log loss.

    ``n_iter`` counts outer steps; the objective curve and ``callback`` get one
    value per step.

    Parameters
    ----------
    objective : LinearObjective
        The problem, in the sample form: a smooth loss with ``hessian`` and one
        output, an elastic-net-family penalty.
    w0, c0 : array of shape (n_features,), float
        The start: coefficients and the centered model's offset (``c0`` is
        used only where the intercept is free).
    max_iter : int
        The most outer steps to take.
    tol : float
        Stopping tolerance, as above.
    verbose, callback
        As for :func:`~skgd.solvers._gd.solve_gd`: a line per step when
        ``verbose``, and ``callback(iteration, w, objective_value)`` after it.

    Returns
    -------
    result : SolverResult
        The last iterate and its intercept, with ``extra["measure"]`` (the measure
        before the last step, over the reference) and ``extra["offset"]`` (the
        centered ``c``).

    References
    ----------
    J. D. Lee, Y. Sun and M. A. Saunders, "Proximal Newton-type methods for
    minimizing composite functions", SIAM J. Optim., 2014.
    """
    check_support(objective.loss, objective.penalty, "newton")
    return _ProxNewton(objective, tol, verbose, callback).solve(w0, c0, max_iter)


@dataclass
class _Model:
    """The quadratic model at a point: gradient, Hessian and the measure there.

    ``gw`` is the gradient in ``w`` with ``c`` eliminated (``slope_w`` the plain
    one); ``gc`` the gradient in ``c``, ``s`` its curvature and ``b`` the coupling
    of ``c`` and ``w`` (``dc = -(gc + b.dw) / s``); ``direction`` the Newton step
    where the measure needed it. All in float64.
    """

    gw: object
    gc: float
    H: object
    s: float
    b: object
    measure: float
    slope_w: object = None
    direction: object = None


class _ProxNewton:
    """One run of :func:`solve_newton`: the problem, its scale and its report."""

    def __init__(self, objective, tol, verbose, callback):
        self.objective, self.verbose, self.callback = objective, verbose, callback
        self.xp, self.cxp = objective.xp, objective.coef_xp
        self.ref = objective.reference_value()
        self.threshold = tol * self.ref
        self.l1, self.l2 = objective.penalty.elastic_net_weights()
        self.use_gap = objective.has_duality_gap
        self.free_c = objective.intercept_mode == "free"
        self.start_time = time.perf_counter()

    def solve(self, w, c0, max_iter):
        """Return the :class:`SolverResult` of the run from ``(w, c0)``."""
        objective = self.objective
        c = c0 if self.free_c else objective.initial_offset()
        raw = objective.raw(w, c)
        value = objective.value(w, raw)
        curve, converged, n_iter = [], False, 0
        while True:
            model = self.model(w, raw)
            converged = model.measure <= self.threshold
            if n_iter >= max_iter:
                break
            # A certified point stays certified after a step that decreases the
            # objective: the model is built, and its step squares the error for
            # the price of the line search's pass.
            step = self.step(w, c, raw, value, model, n_iter + 1)
            if step is None:  # no decrease left at the rounding level
                break
            w, c, raw, value = step
            n_iter += 1
            curve.append(value)
            self.report(n_iter, w, value, model.measure)
            if converged:
                break
        return SolverResult(
            w,
            objective.intercept(w, c),
            n_iter,
            bool(converged),
            curve,
            {"measure": model.measure / self.ref, "offset": c},
        )

    def to64(self, a):
        """Return a coefficient-sized array in float64."""
        return self.cxp.astype(a, self.cxp.float64)

    def model(self, w, raw):
        """Return the :class:`_Model` at ``w`` with predictions ``raw``."""
        objective, xp, cxp = self.objective, self.xp, self.cxp
        backend = objective.backend
        g = objective.raw_gradient(raw)
        gw, gc = objective.backprop(g)
        hu = objective.u * objective.loss.hessian(objective.y, raw)
        zeros = cxp.zeros_like(objective.x_mean)
        s, b, mean = 0.0, self.to64(zeros), zeros
        if self.free_c:
            s = backend.to_float(xp.sum(hu))
            if s > 0:
                # The means under u h center X for the Schur complement of c.
                mean = backend.weighted_mean(objective.X, hu / s)
                b = s * self.to64(mean - objective.x_mean)
        gram = getattr(backend, "weighted_gram", None) or backend.sparse_gram
        H = self.to64(backend.to_coef(gram(objective.X, hu, mean)))
        gw64, gc = self.to64(gw), float(gc)
        if s > 0:
            gw64 = gw64 - b * (gc / s)
        measure = math.inf
        if self.use_gap:
            measure = objective.duality_gap(w, raw, gw, g)
        model = _Model(gw64, gc, H, s, b, measure, slope_w=self.to64(gw))
        if not self.use_gap:
            model.measure = self.decrement(w, model)
        return model

    def ridge(self, H):
        """Return ``H`` plus its relative ridge (see :data:`_RIDGE`).

        Relative to each diagonal entry (the Jacobi metric), so that it is free
        of the features' scales: a ridge relative to the largest entry would
        swamp the curvature of a column scaled by 1e-3 next to one by 1e3, and
        understate the Newton decrement there. A column without curvature gets
        the ridge of the largest entry.
        """
        cxp = self.cxp
        diag = cxp.linalg.diagonal(H)
        top = max(float(cxp.max(diag)) if diag.shape[0] else 0.0, 1e-300)
        ridge = _RIDGE * cxp.where(diag > 0, diag, top)
        n = H.shape[0]
        return H + cxp.reshape(ridge, (n, 1)) * cxp.eye(
            n, dtype=H.dtype, device=self.objective.backend.device
        )

    def newton_direction(self, w, model):
        """Return the Newton step in ``w`` for ridge or no penalty."""
        cxp = self.cxp
        A = self.ridge(model.H)
        grad = model.gw
        if self.l2:
            eye = cxp.eye(
                A.shape[0], dtype=A.dtype, device=self.objective.backend.device
            )
            A = A + self.l2 * eye
            grad = grad + self.l2 * self.to64(w)
        with serial_blas():
            return -cxp.linalg.solve(A, grad)

    def decrement(self, w, model):
        """Return half the squared Newton decrement (no penalty strength).

        ``g.T H^-1 g / 2`` over ``(w, c)`` (an L2 part, without a duality gap,
        in both): the reduced gradient's part plus the intercept's, ``gc**2 /
        (2 s)``. The direction is kept for the step.
        """
        model.direction = self.newton_direction(w, model)
        grad = model.gw + self.l2 * self.to64(w) if self.l2 else model.gw
        lam2 = -float(grad @ model.direction)
        if self.free_c and model.gc:
            lam2 += model.gc * model.gc / model.s if model.s > 0 else math.inf
        return 0.5 * max(lam2, 0.0)

    def direction(self, w, model):
        """Return the step in ``w`` (float64) that minimises the penalized model."""
        if not self.l1:
            if model.direction is not None:
                return model.direction
            return self.newton_direction(w, model)
        cxp = self.cxp
        w64 = self.to64(w)
        G = self.ridge(model.H)
        q = G @ w64 - model.gw
        yy = 0.0
        if not self.l2:
            # The gap of a pure L1 scales its dual point by the squared residual
            # yy - 2 q.w + w.G w, which must not be negative: yy = q.G^-1 q.
            with serial_blas():
                yy = float(q @ cxp.linalg.solve(G, q)) * (1.0 + 1e-12)
        # The model's gap at a step is quadratic in its distance from the model's
        # minimum, but the outer gap can be linear in it (the dual point's
        # scaling): near the end the inner gap must be the square's share.
        share = _INNER_SHARE * min(1.0, model.measure / self.ref)
        inner = max(1e-3 * self.threshold, share * model.measure)
        w_new, _, _ = solve_gram_enet(
            G,
            q,
            yy,
            self.objective.penalty,
            w64,
            threshold=inner,
            max_iter=_INNER_MAX_ITER,
            xp=cxp,
        )
        if not bool(cxp.any(w_new != w64)):
            # The model's gap is met at w itself, yet the outer one is not (it
            # can be linear in the distance to the optimum, the model's is
            # quadratic): the exact step on w's support and signs.
            polished, _ = _newton_step(G, q, self.objective.penalty, cxp.sign(w64), cxp)
            if polished is not None:
                w_new = polished
        return w_new - w64

    def step(self, w, c, raw, value, model, iteration):
        """Return ``(w, c, raw, value)`` after the line search, or None.

        The step ``t (dw, dc)`` is halved until the objective decreases by
        ``_ARMIJO t delta``, with ``delta = grad.d + h(w + d) - h(w)`` the decrease
        the model predicts (negative); a rounding allowance of a few ulps of the
        objective lets the last steps through (whose decrease is below the
        rounding of the objective, while the measure still sees them). None: no
        step, or none was found.
        """
        objective, cxp = self.objective, self.cxp
        dw64 = self.direction(w, model)
        dc = 0.0
        if self.free_c and model.s > 0:
            dc = -(model.gc + float(model.b @ dw64)) / model.s
        dw = cxp.astype(dw64, w.dtype)
        if dc == 0.0 and not bool(cxp.any(dw != 0)):
            return None
        draw = objective.raw(dw, dc)  # (raw is linear in (w, c))
        penalty_now = objective.penalty_value(w)
        slope = float(model.slope_w @ dw64) + model.gc * dc
        delta = slope + objective.penalty_value(w + dw) - penalty_now
        noise = 16.0 * float(cxp.finfo(w.dtype).eps) * abs(value)
        t = 1.0
        for _ in range(_MAX_HALVINGS):
            w_t, raw_t = w + t * dw, raw + t * draw
            value_t = objective.value(w_t, raw_t)
            check_finite_objective(
                value_t,
                step_name="Newton step",
                step=t,
                iteration=iteration,
                hint="Scale the features or use float64.",
            )
            if value_t <= value + _ARMIJO * t * min(delta, 0.0) + noise:
                return w_t, c + t * dc, raw_t, value_t
            t *= 0.5
        return None

    def report(self, n_iter, w, value, measure):
        """Print the verbose line and call the callback after step ``n_iter``."""
        if self.verbose:
            print(
                f"[newton] iter {n_iter:4d}  objective {value:.8e}  "
                f"measure before step {measure / self.ref:.3e} "
                f"(tol {self.threshold / self.ref:.1e})  "
                f"{time.perf_counter() - self.start_time:.2f}s"
            )
        if self.callback is not None:
            self.callback(n_iter, w, value)
