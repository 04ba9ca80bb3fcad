# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The quadratic models of the proximal Newton solver, and where they come from.

:class:`ModelSource` makes the :class:`Model` of a point of a run of
:func:`skgd.solvers._newton.solve_newton`: from one pass of the dense backend
over a numpy X (its ``gram_terms``: the weighted Gram matrix, the gradient and
the curvature sums from each row block, about 0 where the columns are centered
already), from one call of the backend's
``newton_terms`` (Dask: one ``compute`` per model, shared with the line search's
full step), from a centered, transposed copy of a small dense numpy X
(:class:`CenteredCopy`), from the backend's passes over X (sparse X), or, for
the first model, from a Gram matrix reused from a related run (the previous alpha
of a path).
"""

import math
from dataclasses import dataclass

from array_api_compat import is_numpy_array, is_numpy_namespace
from array_api_compat import numpy as np

# Up to this many entries a dense numpy X gets a centered, transposed copy for
# the run (see CenteredCopy): 512 kB in float64.
COPY_MAX_ELEMENTS = 2**16


@dataclass
class Model:
    """The quadratic model at a point: gradient, Hessian and what they give.

    ``gw`` is the gradient in ``w`` with ``c`` eliminated, ``slope_w`` the plain
    one (in the data's dtype) and ``g`` the per-sample one; ``gc`` the gradient
    in ``c``, ``s`` its curvature and ``b`` the coupling of ``c`` and ``w``
    (``dc = -(gc + b.dw) / s``); ``decrement`` the measure without a penalty
    strength. The matrices and ``gw`` are in float64.
    """

    gw: object
    gc: float
    H: object
    s: float
    b: object
    g: object = None
    slope_w: object = None
    decrement: float = math.inf


def to64(cxp, a):
    """Return a coefficient-sized array in float64 (itself if it is one)."""
    if type(a) is np.ndarray and a.dtype == np.float64:
        return a  # (as astype's copy=False does, without its wrapper: many a step)
    return cxp.astype(a, cxp.float64, copy=False)


def _derivatives(objective, raw):
    """Return ``u * dL/draw`` and ``u * d2L/draw2`` at ``raw`` (one output).

    :meth:`~skgd._objective.LinearObjective.raw_gradient` and the curvature
    weights of the model, from the loss's ``gradient_hessian`` (one
    exponential for the log loss where two calls take two).
    """
    gradient, hessian = objective.loss.gradient_hessian(objective.y, raw)
    u = objective.u
    return u * gradient, u * hessian


class ModelSource:
    """The models of one run: :meth:`model` at each point, :meth:`trial_value`.

    ``free_c`` says whether the intercept is free (then ``c`` is eliminated from
    the model by its Schur complement); ``reused`` is a Gram matrix that the
    first model takes in place of building one (see ``solve_newton``).
    """

    def __init__(self, objective, free_c, reused=None):
        self.objective, self.free_c, self.reused = objective, free_c, reused
        cxp = self.cxp = objective.coef_xp
        # The means the models center X at: x_mean, or 0 with a fixed intercept.
        x_mean = objective.x_mean
        self.zeros = cxp.zeros_like(x_mean)
        self.zeros64 = to64(cxp, self.zeros)
        self.mean = x_mean if free_c else self.zeros
        # Dask makes a model in one compute, and the line search's full step
        # makes the next one (see trial_value).
        self.one_call = hasattr(objective.backend, "newton_terms")
        # What makes a model in one call (see one_pass_model), or None.
        self.terms = getattr(objective.backend, "newton_terms", None)
        # Whether the terms are the dense backend's one pass (see one_pass_terms).
        self.fused = False
        # The point X is centered at in the terms' Gram matrix (None: 0, with
        # no subtraction; see one_pass_terms), and x_mean in float64.
        self.center, self.mean64 = self.mean, to64(cxp, x_mean)
        # The model made by the line search's last full step, with its raw.
        self.pending = None

    def one_pass_terms(self):
        """Make the models of a dense numpy X from one pass over it, or a copy.

        From a :class:`CenteredCopy` of a small X, from the dense backend's
        ``gram_terms`` (each row block gives its part of the Gram matrix, of
        ``X.T g`` and of the curvature sums) otherwise. Once per run, before its
        first model: a single model, as of ``newton_decrement``, is made from the
        backend's passes, whose Gram matrix is centered at the means under the
        curvature (``gram_terms`` centers it at ``x_mean``, or at 0 where the
        columns are centered already (:meth:`centered_already`), and moves it
        there by a rank-one correction, whose rounding makes a Hessian of rank
        zero, one sample with curvature, a matrix of rounding size).
        """
        X, backend = self.objective.X, self.objective.backend
        if self.terms is not None or not is_numpy_array(X):
            return
        if X.size <= COPY_MAX_ELEMENTS:
            self.terms = CenteredCopy(X, self.mean).newton_terms
        elif hasattr(backend, "gram_terms"):
            self.terms, self.fused = backend.gram_terms, True
            if not self.free_c or self.centered_already():
                self.center = None

    def centered_already(self):
        """Return whether every column's mean is within ``sqrt(eps)`` of its spread.

        Then the Gram matrix of ``gram_terms`` is built about 0, each block in
        one pass rather than two, and the rank-one correction of
        :meth:`one_pass_model` moves it to the means under the curvature: the
        column means (standardized data: 1e-17 of the spread) change the
        rounding of neither by more than ``sqrt(eps)`` of its own size. Data
        with offsets keep the centered blocks, which the correction's
        cancellation would otherwise cost (the squared ratio of mean to spread).
        """
        objective, cxp = self.objective, self.cxp
        if not objective.centered:  # (x_mean is 0: no statistics to ask)
            return True
        mean = self.mean64
        eps = float(cxp.finfo(objective.dtype).eps)
        sq = to64(cxp, objective.moments().sq)
        return bool(cxp.all(mean * mean <= eps * sq))

    def model(self, w, raw):
        """Return the :class:`Model` at ``w`` with predictions ``raw``."""
        objective, cxp = self.objective, self.cxp
        backend, xp = objective.backend, objective.xp
        if self.one_call:
            # (The line search's full step may have made it: see trial_value.)
            pending, self.pending = self.pending, None
            if pending is not None and pending[0] is raw:
                return pending[1]
            return self.one_pass_model(raw)[0]
        if self.terms is not None and not (self.fused and self.reused is not None):
            return self.one_pass_model(raw, with_loss=False)[0]
        g, hu = _derivatives(objective, raw)
        gw, gc = objective.backprop(g)
        s, b, mean = 0.0, self.zeros64, self.zeros
        if self.free_c:
            s = backend.to_float(xp.sum(hu))
            if s > 0:
                # The means under u h center X for the Schur complement of c.
                mean = backend.weighted_mean(objective.X, hu / s)
                b = s * to64(cxp, mean - objective.x_mean)
        gram = getattr(backend, "weighted_gram", None) or backend.sparse_gram
        H, self.reused = self.reused, None
        if H is None:
            H = to64(cxp, backend.to_coef(gram(objective.X, hu, mean)))
        gw64, gc = to64(cxp, gw), float(gc)
        reduced = gw64 - b * (gc / s) if s > 0 else gw64
        return Model(reduced, gc, H, s, b, g=g, slope_w=gw)

    def one_pass_model(self, raw, with_loss=True):
        """Return ``(model, loss)`` at ``raw`` from one call of ``self.terms``.

        On a backend with ``newton_terms`` (Dask): the gradient, the curvature
        sums, the weighted Gram matrix (centered at ``x_mean``, then moved to
        the means under ``u h`` by a rank-one correction) and the mean loss come
        from one ``compute``; on a small dense numpy X the same terms come from
        a :class:`CenteredCopy` (``with_loss`` False: the loss is None). The
        :class:`Model` is :meth:`model`'s.
        """
        objective, xp, cxp = self.objective, self.objective.xp, self.cxp
        g, hu = _derivatives(objective, raw)
        loss = ()
        if with_loss:
            loss = (xp.sum(objective.u * objective.loss.pointwise(objective.y, raw)),)
        product, sum_g, s, a, G, values = self.terms(
            objective.X, g, hu, self.center, *loss
        )
        gw, gc = objective.chain(product, sum_g)
        gw64, gc, b, H = to64(cxp, gw), float(gc), self.zeros64, to64(cxp, G)
        if not (self.free_c and s > 0):
            s = 0.0
        else:
            # The means under u h are center + a / s: G - a a.T / s is centered
            # there, and b = s (mean - x_mean) is a, less s x_mean about 0.
            a = to64(cxp, a)
            b = a if self.center is not None else a - s * self.mean64
            # (numpy's ufunc outer: np.outer's products, less its wrapper.)
            outer = np.multiply.outer if is_numpy_namespace(cxp) else cxp.linalg.outer
            H = H - outer(a, a) / s
        reduced = gw64 - b * (gc / s) if s > 0 else gw64
        return Model(reduced, gc, H, s, b, g=g, slope_w=gw), (values or [None])[0]

    def trial_value(self, w, raw, *, first):
        """Return the objective at a trial step ``(w, raw)``.

        On a backend with ``newton_terms`` (Dask) the full step's pass also makes
        the next model (:meth:`one_pass_model`), kept for :meth:`model`
        when the step is taken: an outer step is then one ``compute``.
        """
        objective = self.objective
        if not (first and self.one_call):
            return objective.value(w, raw)
        model, loss_value = self.one_pass_model(raw)
        self.pending = (raw, model)
        return loss_value + objective.penalty_value(w)


class CenteredCopy:
    """The terms of a Newton model from a centered, transposed copy of a small X.

    On a dense numpy X of at most :data:`COPY_MAX_ELEMENTS` entries the fixed
    costs of a step decide: ``C.T = (X - mean).T`` is copied once per run
    (C-contiguous), and each model's weighted Gram matrix is one BLAS ``gemm``
    of ``C.T diag(h)`` by ``C``, its coupling to the intercept ``C.T h`` the
    sums of the same rows, where the backend's row blocks cost three more
    calls, a ``syrk`` (slower than ``gemm`` at this size: 36 against 20 us on
    569 x 30) and a pass for the means under ``h``. The Gram matrix is centered
    at ``mean``, not at the means under ``h``: the caller moves it there by the
    rank-one correction of :meth:`ModelSource.one_pass_model`, as for Dask.
    """

    def __init__(self, X, mean):
        self.CT = np.ascontiguousarray((X - mean).T)

    def newton_terms(self, X, g, h, mean, *scalars):
        """Return what ``newton_terms`` of the Dask backend returns, from the copy.

        ``(X.T @ g, sum(g), sum(h), C.T @ h, C.T @ diag(h) @ C)`` and the
        ``scalars`` as floats (``mean`` is the copy's).
        """
        weighted = self.CT * h
        G = weighted @ self.CT.T
        values = [float(v) for v in scalars]
        # (The arrays' own sum methods: np.sum's dispatch costs more at this size.)
        total, sum_g = float(h.sum()), float(g.sum())
        return g @ X, sum_g, total, weighted.sum(axis=1), G, values
