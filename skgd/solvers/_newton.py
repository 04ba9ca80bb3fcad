# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Full-batch solver: proximal Newton for smooth losses of one output.

Each outer step makes one pass over the data for the per-sample gradient and
curvature, and one for the weighted Gram matrix of the data (the Hessian of the
loss part); the penalized quadratic model is then minimised in coefficient space
(a linear solve for ridge and no penalty, coordinate descent on the Gram matrix
of :mod:`skgd.solvers._gram_enet` for an L1 part) and a backtracking line search on
the true objective takes the step. It knows nothing of the estimator; which
problems it is chosen for is in :mod:`skgd.solvers._routing`.
"""

import math
import time
import warnings
from dataclasses import replace

from array_api_compat import is_numpy_namespace
from array_api_compat import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skgd._backend._dense import psd_quadratic, solve_spd
from skgd._backend._namespace import array_namespace
from skgd._contract import check_support, provides
from skgd._gaps import (
    box_gap,
    box_gap_applies,
    numerical_gap_applies,
    numerical_gap_at,
)
from skgd.solvers import _gram_enet
from skgd.solvers._gram_enet import (
    _dual_gap,
    _newton_step,
    compiled_cd,
    solve_gram_cd,
)
from skgd.solvers._newton_model import ModelSource, to64
from skgd.solvers._result import SolverResult

# Sufficient decrease of the line search (Armijo), and its halvings at most.
_ARMIJO = 1e-4
_MAX_HALVINGS = 40
# Relative ridge added to the model's Hessian: it keeps the linear solve defined
# where the Hessian is singular (separable classes without a penalty, a Huber fit
# with fewer inliers than features); the line search corrects the step it biases.
_RIDGE = 1e-10
# The inner problem of an L1 part cuts its own gap by this share (times the
# relative outer measure near the end: see _ProxNewton.l1_step), in at most
# _INNER_MAX_ITER iterations. (0.1 asked 15-30% more coordinate-descent epochs
# for the same outer steps: the same step counts at 0.1, 0.25 and 0.5 on eight
# L1 problems, log loss, multinomial, modified huber, huber, squared
# epsilon-insensitive and Poisson, dense, sparse and an adversarial design,
# at tol 1e-4 and 1e-8.)
_INNER_SHARE = 0.25
_INNER_MAX_ITER = 500
# Epochs of the compiled coordinate descent per inner problem on numpy (each
# ``n_features**2`` operations; tens of them are the rule). Its result needs no
# certificate of its own: the outer line search and stopping measure judge it.
_INNER_EPOCHS = 1_000
# The duality gap is made once the model's predicted decrease is within this
# factor of the threshold (see _StopRule.measure): for an exact quadratic
# model half that decrease is a lower bound on the suboptimality, so a gap
# within the threshold is never skipped there.
_NEAR = 2.0
# The damping of the model (see _damped): its start in the Jacobi
# metric (the curvature of the squared loss), the factor it shrinks by after a
# full step, and its floor and ceiling.
_DAMPING_START = 1.0
_DAMPING_SHRINK = 0.25
_DAMPING_RANGE = (1e-12, 1e12)


# A run without a duality gap is certified where half the squared Newton
# decrement is within this share of the threshold: the decrement then bounds the
# suboptimality (lambda**2, twice half of it, for a self-concordant function
# with lambda <= 0.68; half of it exactly where the loss is quadratic between
# the point and the optimum). See newton_decrement.
DECREMENT_SHARE = 0.5
# Up to this many features another solver's run without a duality gap is
# certified by the Newton decrement (:func:`newton_decrement`): one weighted Gram
# matrix (``n_samples * n_features**2`` flops at BLAS-3 speed, about the price of
# ``n_features / 10`` first-order iterations) and one ``p x p`` solve per check;
# 1,024 columns hold an 8 MB Hessian.
DECREMENT_MAX_FEATURES = 1024


def decrement_applies(objective):
    """Return whether :func:`newton_decrement` can certify a run on ``objective``.

    The sample form of a smooth loss of one output with ``hessian`` (the Gram
    form's squared loss is solved in closed form), no L1 part and no constraint
    (the decrement is that of the unconstrained problem), at most
    :data:`DECREMENT_MAX_FEATURES` features, and a backend that builds a weighted
    Gram matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd._backend import get_backend
    >>> from skgd._objective import LinearObjective
    >>> from skgd.losses import Huber, Hinge
    >>> from skgd.penalties import NoPenalty
    >>> X, y = np.eye(3), np.array([1.0, -1.0, 1.0])
    >>> make = lambda loss: LinearObjective(get_backend(X), X, y, loss, NoPenalty())
    >>> decrement_applies(make(Huber())), decrement_applies(make(Hinge()))
    (True, False)
    """
    loss, backend = objective.loss, objective.backend
    shape = objective.penalty.elastic_net_shape()
    return (
        getattr(objective, "form", None) == "samples"
        and loss.is_smooth
        and objective.n_outputs == 1
        and provides(loss, "hessian")
        and shape is not None
        and not shape[0]
        and not shape[2]
        and objective.n_features <= DECREMENT_MAX_FEATURES
        and (hasattr(backend, "weighted_gram") or hasattr(backend, "sparse_gram"))
    )


def _multinomial_applies(objective):
    """Whether :func:`multinomial_newton` can form the exact softmax Hessian.

    The multinomial log loss without an L1 part or a constraint, ``n_classes *
    (n_features + 1)`` at most :data:`DECREMENT_MAX_FEATURES`, and a backend
    that builds a weighted Gram matrix.
    """
    shape = objective.penalty.elastic_net_shape()
    backend = objective.backend
    return (
        getattr(objective, "form", None) == "samples"
        and objective.n_outputs > 1
        and hasattr(objective.loss, "inverse_link")
        and hasattr(objective.loss, "n_classes")
        and shape is not None
        and not shape[0]
        and not shape[2]
        and objective.n_outputs * (objective.n_features + 1) <= DECREMENT_MAX_FEATURES
        and (hasattr(backend, "weighted_gram") or hasattr(backend, "sparse_gram"))
    )


def multinomial_newton(objective, w, c):
    r"""Return the Newton step of the multinomial log loss at ``(w, c)``, or None.

    The Hessian of the softmax cross-entropy couples the classes: in raw it is
    ``u_i (diag(p_i) - p_i p_i.T)`` per sample, so over ``(w, c)`` it is made of
    the ``K (K + 1) / 2`` weighted Gram matrices of ``[X - x_mean, 1]`` with the
    weights ``u p_k (1 - p_k)`` (``k = l``) and ``u p_k p_l`` (negated, ``k !=
    l``): ``n_samples * n_features**2 * K**2 / 2`` flops, for ``K (p + 1)`` at
    most :data:`DECREMENT_MAX_FEATURES`. It is singular along the shifts of all
    classes' coefficients by one vector (the softmax ignores them), to which the
    gradient is orthogonal; the relative ridge of the Newton model keeps the
    solve defined there.

    Returns
    -------
    step : tuple or None
        ``(decrement, dw, dc)``: half the squared Newton decrement
        ``grad.T H^-1 grad / 2`` and the step (``dw`` of ``w``'s shape, ``dc``
        of ``(K,)``, zero unless the intercept is free); None where
        :func:`_multinomial_applies` does not hold.
    """
    if not _multinomial_applies(objective):
        return None
    return multinomial_step(objective, w, c)


def multinomial_step(objective, w, c):
    """Return :func:`multinomial_newton`'s step without checking that it applies.

    For a caller that has checked what it needs (the constraint ``w >= 0``
    of :func:`~skgd.solvers._positive_decrement.positive_decrement`, which
    takes the decrement of the unconstrained problem alone).
    """
    backend, cxp = objective.backend, objective.coef_xp
    free_c = objective.intercept_mode == "free"
    c = c if free_c else objective.initial_offset()
    raw = objective.raw(w, c)
    (prob,) = backend.persist(objective.loss.inverse_link(raw))
    gw, gc = objective.backprop(objective.raw_gradient(raw))
    p, K = objective.n_features, objective.n_outputs
    mean = objective.x_mean if objective.fit_intercept else cxp.zeros_like(w[:, 0])
    gram = getattr(backend, "weighted_gram", None) or backend.sparse_gram
    n = p + 1 if free_c else p
    H = np.zeros((n, K, n, K))
    u = objective.u
    for k in range(K):
        for l in range(k, K):
            pk, pl = prob[:, k], prob[:, l]
            h = u * pk * (1.0 - pk) if k == l else u * pk * pl
            block = np.zeros((n, n))
            block[:p, :p] = np.asarray(backend.to_coef(gram(objective.X, h, mean)))
            if free_c:
                product, total = backend.rmatvec_sum(objective.X, h)
                cross = np.asarray(backend.to_coef(product)) - np.asarray(mean) * total
                block[:p, p] = block[p, :p] = cross
                block[p, p] = float(total)
            sign = 1.0 if k == l else -1.0
            H[:, k, :, l] = sign * block
            H[:, l, :, k] = sign * block.T
    H = H.reshape(n * K, n * K)
    grad = np.asarray(gw, dtype=np.float64)
    if free_c:
        gc = np.reshape(np.asarray(gc, dtype=np.float64), (1, K))
        grad = np.concatenate([grad, gc])
    l2 = objective.penalty.elastic_net_shape()[1]
    if l2:
        grad[:p] += l2 * np.asarray(w, dtype=np.float64)
        H[: p * K, : p * K] += l2 * np.eye(p * K)
    grad = grad.reshape(-1)
    diag = np.diagonal(H)
    top = max(float(diag.max()) if diag.size else 0.0, 1e-300)
    H = H + np.diag(_RIDGE * np.where(diag > 0, diag, top))
    d = -solve_spd(H, grad)
    decrement = 0.5 * max(-float(grad @ d), 0.0)
    d = d.reshape(n, K)
    dc = d[p] if free_c else np.zeros(K)
    return decrement, cxp.asarray(d[:p]), cxp.asarray(dc)


def newton_decrement(objective, w, c):
    r"""Return half the squared Newton decrement at ``(w, c)``, or None.

    ``grad.T H^-1 grad / 2`` over ``(w, c)`` with the exact Hessian ``H`` of the
    objective (an L2 part included), as :func:`solve_newton` stops on (for the
    multinomial log loss, that of :func:`multinomial_newton`): the
    decrease the Newton step predicts. It equals the suboptimality where the loss
    is quadratic between the point and the optimum, and for a self-concordant
    function with ``lambda <= 0.68`` the suboptimality is at most ``lambda**2``,
    twice this value (Boyd and Vandenberghe, Convex Optimization, 9.6.3). Where
    ``H`` is singular (a piecewise-linear loss with residuals on its linear
    pieces) the relative ridge of the Newton model makes it large unless the
    gradient vanishes there too (infinite where the 0/0 of a zero Hessian makes it
    undefined). None where :func:`decrement_applies` does not hold.

    Parameters
    ----------
    objective : LinearObjective
        The problem, in the sample form.
    w : array of shape (n_features,)
        Coefficients.
    c : float
        The centered model's offset (used only where the intercept is free).

    Returns
    -------
    decrement : float or None
        Half the squared decrement (in the objective's units).
    """
    if objective.n_outputs > 1:
        step = multinomial_newton(objective, w, c)
        if step is None:
            return None
        return step[0] if not math.isnan(step[0]) else math.inf
    if not decrement_applies(objective):
        return None
    run = _ProxNewton(objective, 0.0, 0, None, damping=0.0)
    # (The decrement, not the gap: the model's direction sets it without one.)
    run.rule.use_gap = False
    c = c if run.free_c else objective.initial_offset()
    model = run.source.model(w, objective.raw(w, c))
    run.direction(w, model)
    # (A Hessian that is zero, every residual on a linear piece, can make it
    # 0/0: nothing is predicted there, and no decrease is certified.)
    return model.decrement if not math.isnan(model.decrement) else math.inf


def solve_newton(
    objective,
    w0,
    c0,
    *,
    max_iter,
    tol,
    verbose=0,
    callback=None,
    damping=None,
    hessian=None,
):
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
    elastic net on the Gram matrix ``H`` by coordinate descent (on numpy
    scikit-learn's compiled loop, stopped on its own duality gap; elsewhere,
    and for a damped model, :func:`~skgd.solvers._gram_enet.solve_gram_cd`,
    certified by the model's duality gap, with FISTA in the Jacobi metric where
    the compiled loop is unavailable), warm-started at ``w`` and solved to a
    tenth of the model's duality gap at ``w``, times the relative outer measure
    (the last duality gap, or the decrease the last step predicted) near the
    end. A relative ridge of ``1e-10`` keeps a singular ``H`` solvable. On a
    dense numpy X of at most 65,536 entries each model comes from a centered,
    transposed copy of X made once per run
    (:class:`~skgd.solvers._newton_model.CenteredCopy`).

    **Damping.** With an L1 part or no penalty at all and a loss whose
    curvature vanishes on some samples (huber and the smoothed hinge and
    epsilon-insensitive losses away from their kinks) the model's Hessian can be
    singular along directions nothing bounds, and its minimiser lies at
    infinity. There the model
    is damped (Levenberg-Marquardt): ``delta D`` is added to the Hessian of
    ``(w, c)``, ``D`` the Jacobi metric (each column's weighted variance; one
    for ``c``). ``delta`` starts at the squared loss's curvature and follows
    the line search: a full step divides it by four (the model predicts well),
    a step cut to ``t`` multiplies it by ``2 / t``. As ``delta`` falls the steps
    become Newton's where the loss has curvature.

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
      predicts, within half the threshold. It equals the suboptimality where the
      loss is quadratic between the point and the optimum (huber and the
      epsilon-insensitive squared loss once their pieces are settled), and the
      suboptimality of a self-concordant function is at most ``lambda**2``,
      twice it, once ``lambda <= 0.68`` (Boyd and Vandenberghe, Convex
      Optimization, 9.6.3): that factor 2 is the share. The step the decrement
      was measured for is then taken too, which squares the error. For huber
      and modified huber, whose Hessian is singular where residuals sit on the
      linear pieces, the duality gap of :func:`~skgd._gaps.box_gap` instead
      (the gradient's dual point corrected on the quadratic pieces), within
      the threshold: the damped steps settle the pieces in finitely many steps,
      and the gap is then the exact suboptimality;
    - with a penalty strength and a loss whose conjugate is numerical (the
      Tweedie loss, ``1 < p < 2``: no gap in the steps), the decrement (with an
      L1 part the proximal one, half the decrease the step predicts) within its
      share only says when to check: the gap of
      :func:`~skgd._gaps.numerical_gap_at` at the point the step reached, an
      upper bound on the suboptimality, must meet the threshold (else the
      steps go on).

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
    damping : float or None
        The damping's start (see above); 0 turns it off. None: on with its
        default start for a loss without ``has_positive_curvature`` with an L1
        part or certified by the box gap (no penalty), off otherwise. A
        sequence of related problems passes the last run's.
    hessian : array of shape (n_features, n_features) or None
        The weighted Gram matrix of the loss part from a run on the same X and
        targets (its ``extra["hessian"]``: the previous alpha of a path, whose
        last point starts this run), taken by the first step in place of
        building one. It changes that step's direction only (the line search
        and the duality gap are this problem's); without a duality gap, whose
        decrement needs the exact Hessian, it is ignored.

    Returns
    -------
    result : SolverResult
        The last iterate and its intercept, with ``extra["measure"]`` (the measure
        before the last step, over the reference), ``extra["offset"]`` (the
        centered ``c``), ``extra["damping"]`` (the damping at the end) and
        ``extra["hessian"]`` (the last Gram matrix built). Where it
        ended short of ``tol`` before ``max_iter`` (the model's step was zero, or
        the line search found no decrease), ``extra["stalled"]`` says why; the
        point is the best one reached.

    References
    ----------
    J. D. Lee, Y. Sun and M. A. Saunders, "Proximal Newton-type methods for
    minimizing composite functions", SIAM J. Optim., 2014.
    """
    check_support(objective.loss, objective.penalty, "newton")
    run = _ProxNewton(objective, tol, verbose, callback, damping)
    run.source.reused = hessian if run.rule.use_gap else None
    if callback is not None:
        return run.solve(w0, c0, max_iter)
    # The inner loop's warning of a run cut by its budget is silenced once per
    # solve rather than on each step (no code of the caller runs in between).
    run.quiet_cd = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return run.solve(w0, c0, max_iter)


def _ridged(H, l2, cxp, device):
    """Return ``H`` plus its relative ridge (see :data:`_RIDGE`) and ``l2``.

    Relative to each diagonal entry (the Jacobi metric), so that it is free
    of the features' scales: a ridge relative to the largest entry would
    swamp the curvature of a column scaled by 1e-3 next to one by 1e3, and
    understate the Newton decrement there. A column without curvature gets
    the ridge of the largest entry.
    """
    if type(H) is np.ndarray:
        # (numpy's own methods, and the diagonal added in place of a copy: a
        # step's fixed costs on small data; the same sums as the addition of a
        # diagonal matrix. Where every column has curvature, the usual case, the
        # ridge needs no largest entry; the diagonal of the copy is written
        # through a strided view, which costs less than ``flat``.)
        diag = H.diagonal()
        if diag.shape[0] and diag.min() > 0:
            ridge = _RIDGE * diag
        else:
            top = max(float(diag.max()) if diag.shape[0] else 0.0, 1e-300)
            ridge = _RIDGE * np.where(diag > 0, diag, top)
        G = H.copy()
        G.reshape(-1)[:: H.shape[0] + 1] = diag + (ridge + l2)
        return G
    diag = cxp.linalg.diagonal(H)
    top = max(float(cxp.max(diag)) if diag.shape[0] else 0.0, 1e-300)
    ridge = _RIDGE * cxp.where(diag > 0, diag, top)
    return H + _diag(ridge + l2, cxp, device)


def _diag(d, cxp, device):
    """Return the diagonal matrix of ``d``."""
    if is_numpy_namespace(cxp):
        return np.diag(d)
    n = d.shape[0]
    eye = cxp.eye(n, dtype=d.dtype, device=device)
    return cxp.reshape(d, (n, 1)) * eye


def _damped(model, delta, d, free_c, cxp, device):
    """Return ``model`` with ``delta * D`` added to its Hessian in ``(w, c)``.

    ``d`` is the diagonal of ``D`` (float64). The curvature of ``c`` becomes
    ``s + delta`` (the weights sum to one), which changes its Schur complement:
    ``H`` (with ``c`` eliminated at curvature ``s``) gains ``b b.T (1 / s - 1 /
    (s + delta))``.
    """
    H = model.H + _diag(delta * d, cxp, device)
    if not free_c:
        return replace(model, H=H)
    s = model.s + delta
    gw = model.gw
    if model.s > 0:
        gw = gw + model.b * (model.gc / model.s - model.gc / s)
        outer = cxp.reshape(model.b, (-1, 1)) * cxp.reshape(model.b, (1, -1))
        H = H + outer * (1.0 / model.s - 1.0 / s)
    return replace(model, H=H, gw=gw, s=s)


def _inner_solve(G, q, yy, penalty, w64, threshold, cxp, *, damped, quiet=True):
    """Return the minimiser of a model with an L1 part, to a gap of ``threshold``.

    On numpy, scikit-learn's compiled coordinate descent on the Gram matrix
    (the loop of :func:`~skgd.solvers._gram_enet.solve_gram_cd`) is called
    directly: its own duality gap, of a dual point scaled into the dual
    domain, bounds the model's suboptimality, and the Python around it (our
    certificate of its result, the proximal-gradient finish) cost three
    times the loop on a 30-feature problem. Elsewhere, and for a target
    fitted exactly (``yy = 0``, no scale for its stopping test), and for a
    ``damped`` model: :func:`~skgd.solvers._gram_enet.solve_gram_cd`. (On the
    damped models of the smoothed hinge the loop's own gap let the steps
    stall: 2,000 steps against 300 at tol 1e-8 on breast cancer.)
    """
    cd = _gram_enet.enet_coordinate_descent_gram
    direct = cd is not None and is_numpy_namespace(cxp) and not damped
    if not (direct and yy > 0):
        w_new, _, _ = solve_gram_cd(
            G,
            q,
            yy,
            penalty,
            w64,
            threshold=threshold,
            max_iter=_INNER_MAX_ITER,
            xp=cxp,
        )
        return w_new
    # (A run cut by its budget: the line search takes what it gives.)
    y_norm = np.array([math.sqrt(yy)], dtype=G.dtype)
    return compiled_cd(
        G, q, y_norm, penalty, w64, _INNER_EPOCHS, threshold / yy, quiet=quiet
    )[0]


class _StopRule:
    """The stopping measure of a run: a duality gap, the box gap or the decrement.

    With a numerical conjugate (``numerical``) the decrement says when the
    run's loop makes the numerical gap (:meth:`numerical_gap`), which decides.

    ``stop`` is the threshold it must meet: ``tol`` times the objective at zero
    coefficients (``ref``), or half of it for the decrement (see
    :data:`DECREMENT_SHARE`).
    """

    def __init__(self, objective, tol):
        self.objective = objective
        self.ref = objective.reference_value()
        self.threshold = tol * self.ref
        self.use_gap = objective.has_duality_gap
        # Without a penalty, a loss with a quadratic dual box (huber, modified
        # huber) is certified by the gap of box_gap: its Hessian is singular
        # where the residuals sit on linear pieces, so the decrement cannot.
        self.box = not self.use_gap and box_gap_applies(objective)
        # The gap bounds the suboptimality itself; the decrement within a share.
        gap = self.use_gap or self.box
        self.stop = self.threshold * (1.0 if gap else DECREMENT_SHARE)
        # A loss with a numerical conjugate (the Tweedie loss, 1 < p < 2) and a
        # penalty has no gap in its steps (it costs a Newton solve per sample):
        # its proximal Newton decrement, an estimate, says when to stop, and the
        # safe gap of numerical_gap_at, made only then, certifies the stop.
        self.numerical = not gap and numerical_gap_applies(objective)
        # Whether the last measure was that gap (see _ProxNewton.solve).
        self.checked = False

    def measure(self, w, c, raw, value, model, step, *, final, drop=-math.inf):
        """Return the stopping measure at ``(w, c)``: a duality gap or the decrement.

        The gap costs a pass (two for the classification losses, four and a
        weighted Gram matrix for :func:`~skgd._gaps.box_gap`) and as much
        Python as the rest of a step on small data: it is made only once the
        decrease the model predicts is within ``_NEAR`` of the threshold, or at
        the last step. Where the loss is quadratic, ``-delta / 2`` is a lower
        bound on the suboptimality (the step minimises the model, so ``d.H.d``
        is at most ``-delta``), hence on any gap: a gap skipped there could not
        have met the threshold. Elsewhere a gap not made only delays the stop by
        a step; it never certifies. ``drop`` is the decrease of the objective
        that the step from ``(w, c)`` achieved, less the line search's rounding
        allowance: the point is at least that far from the optimum, so no gap
        there can meet a threshold below it (at the last step either).
        """
        if not (self.use_gap or self.box):
            self.checked, self.stop = False, self.threshold * DECREMENT_SHARE
            return model.decrement
        if drop > self.threshold:
            return math.inf
        if not final and -step[2] > _NEAR * self.threshold:
            return math.inf
        if self.box:
            return box_gap(self.objective, w, c)
        objective = self.objective
        gap = objective.duality_gap(w, raw, model.slope_w, model.g, value=value)
        # (Below zero only by rounding, at the optimum to working precision.)
        return max(gap, 0.0)

    def numerical_gap(self, w, c):
        """Return the gap of :func:`~skgd._gaps.numerical_gap_at` at ``(w, c)``.

        Made (one pass) only where the decrement said stop
        (``self.numerical``), at the point the step reached; it must meet the
        threshold itself, which ``self.stop`` then is.
        """
        self.checked, self.stop = True, self.threshold
        return max(numerical_gap_at(self.objective, w, c), 0.0)


class _ProxNewton:
    """One run of :func:`solve_newton`: the loop and its steps.

    The stopping measure is its :class:`_StopRule`'s (``self.rule``), the models
    its :class:`~skgd.solvers._newton_model.ModelSource`'s (``self.source``).
    """

    def __init__(self, objective, tol, verbose, callback, damping=None):
        self.objective, self.verbose, self.callback = objective, verbose, callback
        # Whether compiled_cd silences its warning itself (see solve_newton).
        self.quiet_cd = True
        self.xp, self.cxp = objective.xp, objective.coef_xp
        # (The namespace and device of the coefficient-sized matrices.)
        self.space = (self.cxp, objective.backend.device)
        rule = self.rule = _StopRule(objective, tol)
        self.ref, self.threshold = rule.ref, rule.threshold
        # (With the constraint w >= 0, routed here only with an L1 part: the
        # model's L1 step, the Gram coordinate descent, keeps it.)
        self.l1, self.l2, _ = objective.penalty.elastic_net_shape()
        self.free_c = objective.intercept_mode == "free"
        self.source = ModelSource(objective, self.free_c)
        if damping is None:
            flat = not objective.loss.has_positive_curvature
            damping = _DAMPING_START if (self.l1 or rule.box) and flat else 0.0
        self.damping = damping
        # The machine epsilon of the iterates' dtype (see line_search).
        self.eps = None
        self.start_time = time.perf_counter()

    def solve(self, w, c0, max_iter):
        """Return the :class:`SolverResult` of the run from ``(w, c0)``."""
        objective, rule, source = self.objective, self.rule, self.source
        source.one_pass_terms()
        c = c0 if self.free_c else objective.initial_offset()
        raw = objective.raw(w, c)
        value = objective.value(w, raw)
        curve, n_iter, self.last_measure = [], 0, math.inf
        self.stall = None
        while True:
            model = source.model(w, raw)
            step = self.direction(w, model)
            final = n_iter >= max_iter
            # The step is searched before the point is measured: the decrease
            # it finds bounds the point's suboptimality from below, and so
            # spares a gap that could not meet the threshold (see
            # _StopRule.measure). A certified point stays certified after a
            # step that decreases the objective: the model is built, and its
            # step squares the error for the price of the line search's pass.
            new = None if final else self.line_search(w, c, raw, value, step)
            drop = -math.inf if new is None else value - new[3] - self.noise
            measure = rule.measure(
                w, c, raw, value, model, step, final=final, drop=drop
            )
            # (Where the gap was not made, the decrease the model predicts sets
            # the next inner problem's accuracy: see l1_step.)
            self.last_measure = measure if measure < math.inf else -step[2]
            converged = measure <= rule.stop
            if new is None:  # the last step, or no step left
                break
            w, c, raw, value = new
            if self.damping:
                self.adapt_damping()
            n_iter += 1
            curve.append(value)
            if self.verbose or self.callback is not None:
                self.report(n_iter, w, value, measure)
            if converged and rule.numerical:
                # The decrement, an estimate, said stop: the safe gap at the
                # point reached decides (else the steps go on).
                measure = rule.numerical_gap(w, c)
                converged = measure <= rule.stop
            if converged:
                break
        if converged and rule.numerical and not rule.checked:
            # (Stopped by max_iter or a stall where the decrement said stop.)
            measure = rule.numerical_gap(w, c)
            converged = measure <= rule.stop
        extra = {"measure": measure / self.ref, "offset": c, "damping": self.damping}
        extra["hessian"] = model.H
        if not converged and n_iter < max_iter:
            # Ended short of tol with steps to spare: the caller decides who
            # goes on from this point (the best so far: the search is monotone).
            extra["stalled"] = self.stall
        if not converged and rule.checked:
            extra["uncertified"] = (
                "the proximal Newton decrement that stops the run does not bound "
                "the distance to the optimum, and the duality gap of the loss's "
                f"numerical conjugate that does ({measure / self.ref:.2e} "
                "relative) did not meet tol within max_iter. Use a larger "
                "max_iter for a result certified within tol"
            )
        return SolverResult(
            w, objective.intercept(w, c), n_iter, bool(converged), curve, extra
        )

    def to64(self, a):
        """Return a coefficient-sized array in float64 (itself if it is one)."""
        return to64(self.cxp, a)

    def direction(self, w, model):
        """Return ``(dw, dc, delta)``: the model's step and its predicted change.

        ``dw`` minimises the penalized model (float64), ``dc`` follows it in
        closed form, ``delta = grad.d + h(w + dw) - h(w)`` (negative). Without a
        penalty strength the half squared Newton decrement, ``g.T H^-1 g / 2``
        over ``(w, c)`` (an L2 part in both), is set on ``model.decrement``.
        """
        w64 = self.to64(w)
        if self.damping:
            d = self.to64(self.objective.metric())
            model = _damped(model, self.damping, d, self.free_c, *self.space)
        grad = model.gw + self.l2 * w64 if self.l2 else model.gw
        if self.l1:
            dw = self.l1_step(w64, model)
        else:
            A = _ridged(model.H, self.l2, *self.space)
            dw = -solve_spd(A, grad)
        dc = 0.0
        if self.free_c and model.s > 0:
            dc = -(model.gc + float(model.b @ dw)) / model.s
        slope = float(self.to64(model.slope_w) @ dw) + model.gc * dc
        if self.l1 or self.l2:
            slope += self.penalty_change(w64, w64 + dw)
        if not self.rule.use_gap:
            lam2 = -float(grad @ dw)
            if self.free_c and model.gc:
                lam2 += model.gc * model.gc / model.s if model.s > 0 else math.inf
            # With an L1 part (a loss without a conjugate) the proximal Newton
            # decrement: half the decrease the step predicts, 0 at the optimum.
            model.decrement = 0.5 * max(-slope if self.l1 else lam2, 0.0)
        return dw, dc, slope

    def penalty_change(self, w64, w_new):
        """Return ``h(w_new) - h(w64)`` of the elastic net (``w_new`` feasible).

        Written out from the strengths (this runs once a step, where the
        penalty's ``value`` twice cost as much as the model's step on small data).
        """
        cxp, change = self.cxp, 0.0
        if self.l1:
            # (numpy's add.reduce is its sum less the wrapper: the same sum.)
            total = np.add.reduce if type(w64) is np.ndarray else cxp.sum
            norms = total(cxp.abs(w_new)) - total(cxp.abs(w64))
            change += self.l1 * float(norms)
        if self.l2:
            change += 0.5 * self.l2 * float(w_new @ w_new - w64 @ w64)
        return change

    def adapt_damping(self):
        """Shrink the damping after a full step, raise it after a cut one."""
        if self.damping:
            t = self.step_length
            factor = _DAMPING_SHRINK if t == 1.0 else 2.0 / t
            low, high = _DAMPING_RANGE
            self.damping = min(max(self.damping * factor, low), high)

    def l1_step(self, w64, model):
        """Return the step that minimises the model with an L1 part (float64)."""
        cxp, penalty = self.cxp, self.objective.penalty
        G = _ridged(model.H, 0.0, *self.space)  # (the Gram solver adds the L2 part)
        Gw = G @ w64
        q = Gw - model.gw
        yy = 0.0
        if not self.l2:
            # The gap of a pure L1 scales its dual point by the squared residual
            # yy - 2 q.w + w.G w, which must not be negative: yy = q.G^-1 q.
            # G may be singular (columns without curvature: a constant column's
            # diagonal is rounding, 1e-33): q.G^+ q by the pseudo-inverse, as a
            # solve gave 1e41 there and the inner solve's gap meant nothing.
            # (A G of subnormal size overflows the reciprocals: then the solve.)
            # (A damped G is positive definite: a Cholesky solve.)
            with np.errstate(all="ignore"):
                if self.damping:
                    yy = float(q @ solve_spd(G, q))
                else:
                    yy = psd_quadratic(G, q)
                if not math.isfinite(yy):
                    yy = float(q @ self.cxp.linalg.solve(G, q))
            yy *= 1.0 + 1e-12
        # The model's own gap at w: the inner solve must cut it by a share, so
        # every step makes progress. The model's gap is quadratic in the
        # distance to its minimum, but the outer gap can be linear in it (the
        # dual point's scaling): near the end the share shrinks with the latter.
        vq = float(w64 @ (q + q - Gw))
        gap0 = _dual_gap(penalty, w64, -model.gw, yy, vq, cxp)
        share = _INNER_SHARE * min(1.0, self.last_measure / self.ref)
        threshold = max(1e-3 * self.threshold, share * gap0)
        w_new = _inner_solve(
            G,
            q,
            yy,
            penalty,
            w64,
            threshold,
            cxp,
            damped=bool(self.damping),
            quiet=self.quiet_cd,
        )
        same = w_new == w64
        if bool(same.all() if type(same) is np.ndarray else cxp.all(same)):
            # The model's gap is met at w itself, yet the outer one is not (it
            # can be linear in the distance to the optimum, the model's is
            # quadratic): the exact step on w's support and signs.
            polished, _ = _newton_step(G, q, penalty, cxp.sign(w64), cxp)
            if polished is not None:
                w_new = polished
        return w_new - w64

    def line_search(self, w, c, raw, value, step):
        """Return ``(w, c, raw, value)`` after the line search, or None.

        The step ``t (dw, dc)`` is halved until the objective decreases by
        ``_ARMIJO t delta``, ``delta`` the change the model predicts (negative);
        a rounding allowance of a few ulps of the objective lets the last steps
        through (whose decrease is below the rounding of the objective, while
        the measure still sees them). None: no step, or none was found (then
        ``self.stall`` says why).
        """
        objective, cxp = self.objective, self.cxp
        dw64, dc, delta = step
        if type(w) is np.ndarray and type(dw64) is np.ndarray:
            # (numpy's own methods; w + t dw makes a new array, so a step
            # already in w's dtype is not copied.)
            dw = dw64 if dw64.dtype == w.dtype else dw64.astype(w.dtype)
            moves = dc != 0.0 or bool(dw.any())
        else:
            # (skgd's namespace: numpy's own astype for numpy arrays.)
            dw = array_namespace(w, dw64).astype(dw64, w.dtype)
            moves = dc != 0.0 or bool(cxp.any(dw != 0))
        if not moves:
            self.stall = "the model's step is zero"
            return None
        if self.eps is None:  # (w keeps its dtype through a run)
            self.eps = float(array_namespace(w, dw64).finfo(w.dtype).eps)
        # (Kept for the stopping measure: see solve.)
        noise = self.noise = 16.0 * self.eps * abs(value)
        t, finite = 1.0, False
        # A step far beyond the model's reach (a Hessian of rounding size, as
        # of an L2 of 1e-300 where every residual is on Huber's linear part)
        # may overflow: that trial is rejected and a shorter one tried.
        with np.errstate(over="ignore", invalid="ignore"):
            draw = objective.raw(dw, dc)  # (raw is linear in (w, c))
            for _ in range(_MAX_HALVINGS):
                if t == 1.0:  # (the usual full step: 1.0 * x is x, two passes spared)
                    w_t, raw_t = w + dw, raw + draw
                else:
                    w_t, raw_t = w + t * dw, raw + t * draw
                value_t = self.source.trial_value(w_t, raw_t, first=t == 1.0)
                finite = finite or math.isfinite(value_t)
                if math.isfinite(value_t) and (
                    value_t <= value + _ARMIJO * t * min(delta, 0.0) + noise
                ):
                    self.step_length = t
                    return w_t, c + t * dc, raw_t, value_t
                t *= 0.5
        self.stall = (
            f"its line search found no decrease in {_MAX_HALVINGS} halvings"
            if finite
            else "its steps overflowed"
        )
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
