# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The base class of GDRegressor and GDClassifier: their shared parameters and fit.

Both estimators take the same 26 parameters besides their own (``loss``,
``epsilon``, and ``power`` or ``class_weight`` and ``n_jobs``): their defaults,
constraints and docs are
written here once, and each estimator's ``__init__`` and docstring are built from
them. :class:`GDBase` turns the parameters into loss and penalty objects, runs a
fit on validated data (the full-batch solver for each target, or the stochastic
fit of :class:`StochasticFit`: minibatch passes, over row chunks for Dask, with
the start point and the early-stopping split) and assigns the fitted attributes.
A subclass validates the data, codes its targets and, where its ``coef_`` is laid
out otherwise than the solvers' coefficients, converts between the two.
"""

import functools
import inspect
import math
import numbers
import re
import string
import warnings

import numpy as np
import scipy.sparse as sp
from array_api_compat import numpy as np_compat
from sklearn.base import BaseEstimator
from sklearn.model_selection import ShuffleSplit

from skgd._advice import convergence_advice, measure_name
from skgd._backend import fit_threads, is_dask
from skgd._gaps import fenchel_young_applies, final_gap
from skgd._objective import LinearObjective
from skgd._sklearn_compat import (
    DocLinkMixin,
    Interval,
    SparseCoefMixin,
    StrOptions,
    check_is_fitted,
    make_constraint,
)
from skgd._validation import (
    check_predict_data,
    commit_input_attributes,
    scaled_problem,
    scaled_weights,
    target_scale,
    unscale_fitted,
)
from skgd.losses import MultinomialLogLoss, get_classifier_loss, get_loss
from skgd.penalties import get_penalty
from skgd.solvers._result import warn_not_converged
from skgd.solvers._routing import full_batch_solver

Integral, Real = numbers.Integral, numbers.Real

# The parameters both estimators take, in their signatures' order, with defaults.
SHARED_DEFAULTS = {
    "penalty": "l2",
    "alpha": 1e-4,
    "l1_ratio": 0.15,
    "positive": False,
    "penalty_weights": None,
    "fit_intercept": True,
    "solver": "auto",
    "max_iter": 1000,
    "tol": 1e-4,
    "n_iter_no_change": 5,
    "early_stopping": False,
    "validation_fraction": 0.1,
    "random_state": None,
    "verbose": 0,
    "warm_start": False,
    "batch_size": 256,
    "shuffle": True,
    "learning_rate": "adaptive",
    "eta0": 0.01,
    "power_t": 0.25,
    "momentum": 0.9,
    "nesterovs_momentum": True,
    "average": False,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "adam_eps": 1e-8,
}

# What a fit by the stochastic solvers leaves besides coef_, intercept_, n_iter_ and
# loss_curve_; a full-batch fit removes them.
MINIBATCH_ATTRIBUTES = (
    "_minibatch_state",
    "target_scale_",
    "_dask_curve",
    "t_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "_standard_coef",
    "_standard_intercept",
    "_average_coef",
    "_average_intercept",
)

_AVERAGING_ATTRIBUTES = MINIBATCH_ATTRIBUTES[-4:]
# SGDRegressor damps the intercept's updates on sparse data by this factor
# (sklearn.linear_model._base.SPARSE_INTERCEPT_DECAY): the intercept moves on every
# row while a sparse feature moves only on the rows where it is stored.
_SPARSE_INTERCEPT_DECAY = 0.01
# What a fit continues from: a fit with restart sets them aside.
_CONTINUED = ("coef_", "intercept_", "_minibatch_state")
# What a stochastic fit stores in y's units: coefficients (they scale with y) and
# objective values (with y**degree, see scaled_problem). The stream's own state
# (_minibatch_state) is in the units of the scaled problem it continues.
_COEF_UNITS = (
    "coef_",
    "intercept_",
    "_standard_coef",
    "_standard_intercept",
    "_average_coef",
    "_average_intercept",
)
_OBJECTIVE_UNITS = ("loss_curve_", "_curve_tail", "_dask_curve", "best_loss_")

# The numpydoc entries of the parameters and attributes that read the same for the
# estimators; a class docstring names one as a line ``{name}`` and may continue it
# with lines of its own. ``$batch_size`` is the class's default.
_SHARED_DOCS = {
    "alpha": """\
    alpha : float, default=1e-4
        Strength of the penalty, in ``[0, inf)``.""",
    "l1_ratio": """\
    l1_ratio : float or None, default=0.15
        Share of the L1 term for ``penalty="elasticnet"``, in ``[0, 1]``; unused
        by the other penalties, where None is accepted (as in scikit-learn's SGD
        estimators).""",
    "positive": """\
    positive : bool, default=False
        Constrain the coefficients to ``w >= 0`` (the intercept stays free), as
        scikit-learn's ``Lasso(positive=True)``: every solver projects onto the
        constraint, and the duality gap of ``"gd"`` accounts for it. The
        full-batch fit runs ``"gd"``'s proximal-gradient path: the closed forms,
        working sets and Newton steps of the plain elastic net do not apply.""",
    "penalty_weights": """\
    penalty_weights : array-like of shape (n_features,) or None, default=None
        Non-negative factors of ``alpha``, feature by feature, in both the L1 and
        the L2 parts (uniform weights ``c`` give the fit at ``alpha * c``); 0 leaves
        a feature unpenalized, which leaves the solvers without a duality gap (they
        stop on the proximal-gradient measure; ``dual_gap_`` is a gap of the
        result all the same, see the user guide). None: all 1. Like ``positive``, it
        fits on ``"gd"``'s proximal-gradient path.""",
    "solver": """\
    solver : {"auto", "gd", "newton", "sgd", "adam"}, default="auto"
        ``"gd"``: full-batch accelerated proximal gradient descent, to the optimum,
        with no step size to tune. ``"newton"``: full-batch proximal Newton, to
        the optimum in a few steps, each building the ``n_features**2`` Hessian,
        for the smooth losses other than the squared one with one output (binary
        classification, regression) and the L1, L2, elastic-net or no penalty;
        for the multinomial log loss with an L2 penalty or none, the quasi-Newton
        L-BFGS (scipy's) in the same scale-free metric; elsewhere it falls back to
        ``"gd"``. ``"sgd"``: minibatch stochastic
        (proximal) gradient descent with ``learning_rate``, ``momentum`` and
        ``average``. ``"adam"``: minibatch Adam with ``eta0`` as its step.
        ``"auto"`` picks ``"newton"`` where it applies on numpy or scipy.sparse
        data with at most 256 features and at least as many samples (and
        20), L-BFGS for the multinomial log loss with an L2 penalty or none and,
        on dense numpy data with more features and a penalty, for ``"newton"``'s
        losses but the deviances, else ``"gd"``. Both ``"auto"`` and
        ``"newton"`` solve ``loss="quantile"``,
        ``"hinge"`` and ``"epsilon_insensitive"`` with any of the penalties or
        none on numpy or scipy.sparse data exactly, by interior points (a
        linear program; with an L2 part a quadratic one; for ``"auto"``, hinge
        and epsilon-insensitive up to 256 features).""",
    "max_iter": """\
    max_iter : int, default=1000
        Maximum number of iterations (passes over the data), in ``[1, inf)``.""",
    "n_iter_no_change": """\
    n_iter_no_change : int, default=5
        Number of epochs with no improvement before the stochastic solvers stop, in
        ``[1, inf)``. Unused by ``"gd"``, which stops on ``tol``.""",
    "validation_fraction": """\
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping, in ``(0, 1)``.""",
    "random_state": """\
    random_state : int, RandomState instance or None, default=None
        Seed of the stochastic solvers' shuffling; ``"gd"`` is deterministic.""",
    "verbose": """\
    verbose : int, default=0
        Print one progress line per iteration when positive.""",
    "warm_start": """\
    warm_start : bool, default=False
        Whether to start from the previous fit's ``coef_`` and ``intercept_``. The
        stochastic solvers start from the last iterate (not the running average)
        with a fresh optimizer: the step counter ``t_`` starts again at 1 and the
        momentum, Adam moments and average are reset, as scikit-learn's SGD
        estimators and MLPs do. :meth:`partial_fit` is the way to continue a run.""",
    "batch_size": """\
    batch_size : int, default=$batch_size
        Rows per minibatch of ``"sgd"`` and ``"adam"``, in ``[1, inf)``; a step
        applies to the mean gradient of its batch (of the sample weights times
        the per-row gradients in :meth:`partial_fit`, whose weights count as
        given). A :meth:`partial_fit` call makes at least 4 steps: its batches
        have ``min(batch_size, ceil(n_rows / 4))`` rows, so that small chunks
        learn as much per row as large ones. A stream's first batch (the first
        ``batch_size`` rows of the first call) fixes what it takes from the
        data: a regressor's starting intercept (the best constant of that
        batch; a classifier starts from zero, as SGDClassifier does) and the
        units of ``"adam"`` (see ``eta0``). With ``shuffle=False``, chunks of at
        least 4 whole batches thus give the steps of the one array they split.""",
    "shuffle": """\
    shuffle : bool, default=True
        Whether the stochastic solvers shuffle the rows before each epoch.""",
    "learning_rate": """\
    learning_rate : {"constant", "optimal", "invscaling", "adaptive"}, \
default="adaptive"
        Step-size schedule of the stochastic solvers, with scikit-learn's SGD
        formulas; ``t`` counts updates (batches), from 1. ``"constant"``: ``eta0``.
        ``"optimal"``: ``1 / (alpha (t0 + t - 1))`` with SGDRegressor's heuristic
        ``t0`` (needs ``alpha > 0``). ``"invscaling"``: ``eta0 / t**power_t``.
        ``"adaptive"``: ``eta0``, divided by 5 each time ``n_iter_no_change``
        epochs fail to improve by ``tol``; the fit stops once it is below 1e-6.
        For ``"adam"`` the schedule gives Adam's step. A stream
        (:meth:`partial_fit`, on numpy or Dask input) has no epochs to compare:
        there ``"adaptive"`` (the default) decays with the rows seen, carried
        from call to call (:class:`~skgd.optimizers.PerRow`). An update on
        rows ``s+1..s+B`` moves by about twice the steps ``"invscaling"`` would
        give those rows one at a time (``"sgd"``: a step ``2 (1 - momentum)``
        times their sum, at most one over the largest curvature of the stream's
        first batch, estimated at its first call, so no ``eta0`` makes it
        diverge; ``"adam"``: 0.4 times their sum, at most ``10 eta0``). Without
        ``average``, such a stream's ``coef_`` is then a polynomial-decay
        average of its iterates (see ``average``).""",
    "eta0": """\
    eta0 : float, default=0.01
        Initial step size of the stochastic solvers, in ``(0, inf)``. A
        regressor's ``"adam"`` takes it in units of the target's standard
        deviation (of the training rows, or of a :meth:`partial_fit` stream's
        first batch): Adam moves a coefficient by about ``eta0`` times that per
        step, so it needs no tuning to the scale of y. The objective is the
        same: this is Adam on the problem in those units, mapped back.""",
    "power_t": """\
    power_t : float, default=0.25
        Exponent of ``"invscaling"`` (scikit-learn's SGD default).""",
    "momentum": """\
    momentum : float, default=0.9
        Momentum of ``"sgd"``, in ``[0, 1]`` (MLPRegressor's default): it speeds
        up the flat directions tenfold while the stability limit of the step grows
        too. ``momentum=0`` with ``batch_size=1`` is scikit-learn's SGD update.""",
    "nesterovs_momentum": """\
    nesterovs_momentum : bool, default=True
        Whether ``"sgd"`` uses Nesterov's momentum (when ``momentum > 0``).""",
    "average": """\
    average : bool or int, default=False
        Averaged SGD (Polyak-Ruppert): ``True`` averages all iterates, an int
        ``n > 1`` starts once ``n`` rows have been seen; ``coef_`` is then the
        average. It converges with L1 and elastic net too (the average of proximal
        iterates), but is not exactly sparse. A stream at the default
        ``learning_rate="adaptive"`` averages even when ``average`` is False:
        its ``coef_`` is the polynomial-decay average of its iterates (the
        ``n``-th weighted ``5 / (n + 4)``, ``3 / (n + 2)`` for ``"adam"``, so
        the early ones fade out), and each call continues from the last
        iterate.""",
    "beta_1": """\
    beta_1 : float, default=0.9
        Adam's decay of the first moment, in ``[0, 1)``.""",
    "beta_2": """\
    beta_2 : float, default=0.999
        Adam's decay of the second moment, in ``[0, 1)``.""",
    "adam_eps": """\
    adam_eps : float, default=1e-8
        Adam's stability constant, in ``(0, inf)`` (MLPRegressor's ``epsilon``).""",
    "dual_gap_": """\
    dual_gap_ : float or ndarray of shape (n_problems,)
        ``solver="gd"``: the duality gap of the objective at the end of the fit,
        absolute (as Lasso's, for its objective), one per target or one-vs-rest
        problem. It bounds the suboptimality, and is below ``tol`` times the
        objective at zero coefficients when the fit converged (with features of
        ``penalty_weights`` 0 the fit stops on another measure, and this gap of
        its result, which still bounds it, may be larger). Without a penalty
        there is no gap: it holds the final proximal-gradient measure, the decrease
        one more step would guarantee (``inf`` for a non-smooth loss, whose last
        smoothing stage stops on its own measure). Absent after a stochastic
        fit.""",
    "n_features_in_": """\
    n_features_in_ : int
        Number of features seen during fit.""",
    "feature_names_in_": """\
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has column names.""",
}


def init_with(loss, *, after, extra, **defaults):
    """Return an ``__init__`` taking ``loss`` and the shared parameters.

    ``loss`` is the one positional parameter, with its default; the others are
    keyword-only: the shared ones (``defaults`` overriding their defaults) and
    ``extra`` (name to default), placed after the shared parameter ``after``. The
    function stores each argument under its name, as scikit-learn expects, and its
    signature is the one that :meth:`~sklearn.base.BaseEstimator.get_params` reads.
    """
    shared = {**SHARED_DEFAULTS, **defaults}
    parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters.append(
        inspect.Parameter("loss", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=loss)
    )
    for name, default in shared.items():
        parameters.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        )
        if name == after:
            parameters += [
                inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=value)
                for key, value in extra.items()
            ]
    signature = inspect.Signature(parameters)
    defaults = {p.name: p.default for p in parameters[1:]}

    def init(self, *args, **kwargs):
        # Binding the signature costs as much as a third of a small fit's
        # checks: the usual call (at most loss by position, and keywords of the
        # signature) is stored directly; any other is bound, for Python's error.
        if len(args) > 1 or (args and "loss" in kwargs) or kwargs.keys() - defaults:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            kwargs = dict(list(bound.arguments.items())[1:])
        elif args:
            kwargs["loss"] = args[0]
        for name, default in defaults.items():
            setattr(self, name, kwargs.get(name, default))

    init.__name__ = init.__qualname__ = "__init__"
    init.__signature__ = signature
    return init


def check_penalty_weights(weights, n_features=None):
    """Return ``penalty_weights`` as a 1-D float64 array (None stays None).

    Raise a ValueError that says what to pass when they are not one finite,
    non-negative number per feature (``n_features``, where known).
    """
    if weights is None:
        return None
    c = np.asarray(weights, dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(c) & (c >= 0))) if c.ndim == 1 else []
    if c.ndim != 1 or len(bad):
        # (Name the first offending entry: the minimum said nothing of an inf.)
        what = f"entry {bad[0]} is {c[bad[0]]}" if len(bad) else f"shape {c.shape}"
        raise ValueError(
            "penalty_weights must be a 1-D array of finite, non-negative numbers, "
            f"one per feature (0 leaves a feature unpenalized); got {what}."
        )
    if n_features is not None and c.shape[0] != n_features:
        raise ValueError(
            f"penalty_weights has {c.shape[0]} entries but X has {n_features} "
            "features: pass one weight per column of X."
        )
    return c


def fill_shared_docs(cls):
    """Write the shared entries into ``cls``'s docstring (a class decorator).

    A line ``{name}`` holding only the name of a shared parameter or attribute
    (or several names, separated by spaces) becomes its entry (their entries);
    ``$batch_size`` in the entries becomes the class's default.
    """
    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }

    def entries(match):
        text = "\n".join(_SHARED_DOCS[name] for name in match.group(1).split())
        return string.Template(text).safe_substitute(defaults)

    cls.__doc__ = re.sub(
        r"^    \{([\w ]+)\}$", entries, cls.__doc__, flags=re.MULTILINE
    )
    return cls


class StochasticFit:
    """The stochastic solvers' fit and the start point, shared through GDBase."""

    def _fit_minibatch(
        self,
        X,
        y,
        sample_weight,
        backend,
        loss,
        penalty,
        solver,
        *,
        scale=1.0,
        degree=2,
        coef_init=None,
        intercept_init=None,
        partial,
    ):
        """Fit (or, with ``partial``, make one pass) with a stochastic solver.

        ``y`` is the targets divided by ``scale`` (see scaled_problem). The
        estimator keeps its attributes in y's units and its stream's state in
        those of ``y / target_scale_``: both are brought to the units of
        ``y / scale`` for the run (the solver continues from them), and the
        attributes back to y's after it. Returns ``coef_`` and ``intercept_``.
        """
        from skgd._stream import fit_minibatch

        previous = self.__dict__.get("target_scale_", 1.0)
        _rescale_stored(self, 1.0 / scale, degree, previous / scale)
        init = (coef_init, intercept_init)
        fit_minibatch(
            self, X, y, sample_weight, backend, loss, penalty, solver, init, partial
        )
        _rescale_stored(self, scale, degree, 1.0)
        # The solvers store their coefficients in their own layout.
        coef, intercept = self._public_coef(self.coef_, self.intercept_, loss, backend)
        return {"coef_": coef, "intercept_": intercept}

    def _stream_dask_chunks(
        self,
        X,
        y,
        sample_weight,
        loss,
        penalty,
        solver,
        *,
        coef_init,
        intercept_init,
        partial,
    ):
        """Run a stochastic solver on Dask input, one row chunk at a time."""
        from skgd._stream import stream_dask_chunks

        init = (coef_init, intercept_init)
        return stream_dask_chunks(
            self, X, y, sample_weight, loss, penalty, solver, init, partial
        )

    def _held_out_rows(self, Y):
        """Return the training and validation rows: SGDRegressor's ShuffleSplit."""
        cv = ShuffleSplit(
            test_size=self.validation_fraction, random_state=self.random_state
        )
        return next(cv.split(np.zeros((Y.shape[0], 1))))

    def _validation_split(self, X, Y, sample_weight, backend):
        """Hold out ``validation_fraction`` of the rows for early stopping.

        The split is SGDRegressor's: ``ShuffleSplit`` seeded with ``random_state``
        itself, so the same seed holds out the same rows (the classifier's is
        stratified, see ``_held_out_rows``). Returns the training
        rows, the weights with the held-out rows zeroed (so the objective's
        normalised weights cover the training rows only) and the validation data
        ``(X_val, Y_val, weights_val)``.
        """
        n_samples = X.shape[0]
        train, val = self._held_out_rows(Y)
        if train.shape[0] == 0 or val.shape[0] == 0:
            raise ValueError(
                f"Splitting {n_samples} samples into a train set and a validation "
                f"set with validation_fraction={self.validation_fraction!r} led to "
                "an empty set. Change validation_fraction, add samples, or disable "
                "early_stopping."
            )
        weight = (
            np.ones(n_samples, dtype=X.dtype)
            if sample_weight is None
            else sample_weight
        )
        if not np.any(weight[val] > 0) or not np.any(weight[train] > 0):
            raise ValueError(
                "The sample weights of the train or validation set are all zero; "
                "use another random_state or disable early_stopping."
            )
        mask = np.zeros(n_samples, dtype=X.dtype)
        mask[train] = 1.0
        validation = (backend.take_rows(X, val), Y[val], weight[val])
        return np.sort(train), weight * mask, validation

    def _start_point(
        self, coef_init, intercept_init, n_targets, coef_shape, dtype, backend
    ):
        """Return the start: coefficients (n_targets, *coef_shape) and intercepts.

        ``coef_shape`` is ``(n_features,)``, or ``(n_features, K)`` for a loss of
        ``K`` outputs, whose intercepts are then of shape ``(n_targets, K)``.
        """
        cxp, dev = backend.coef_xp, backend.device
        n_features = coef_shape[0]
        size = math.prod(coef_shape)
        offset_shape = (n_targets, *coef_shape[1:])
        W0 = cxp.zeros((n_targets, *coef_shape), dtype=dtype, device=dev)
        B0 = None
        warm = self.warm_start and hasattr(self, "coef_")
        if warm and coef_init is None:
            # (A sparsified coef_ starts a fit as its dense array.)
            prev = cxp.asarray(_dense(self.coef_))
            if prev.size == n_targets * size:
                coef_init = prev
                if intercept_init is None:
                    intercept_init = cxp.asarray(self.intercept_)
        if coef_init is not None:
            coef_init = cxp.asarray(coef_init, dtype=dtype, device=dev)
            coef_init = self._engine_coef(coef_init, coef_shape, cxp)
            if coef_init.size != n_targets * size:
                # One target takes (n_features,) too; several take only 2-D.
                one = f"({n_features},) or " if n_targets == 1 else ""
                raise ValueError(
                    f"coef_init has shape {coef_init.shape}; expected "
                    f"{one}({n_targets}, {n_features})."
                )
            W0 = cxp.reshape(coef_init, (n_targets, *coef_shape))
            if self.positive:
                # A start outside the constraint has an infinite objective: start
                # from its projection, as the first proximal step would.
                W0 = cxp.maximum(W0, 0.0)
        if intercept_init is not None and self.fit_intercept:
            b = cxp.reshape(cxp.asarray(intercept_init, dtype=dtype), (-1,))
            if len(offset_shape) > 1:
                b = cxp.reshape(b, offset_shape[1:])
            B0 = cxp.broadcast_to(b, offset_shape)
        # (Zeros need no check: a small fit's fixed cost.)
        finite = coef_init is None or bool(cxp.all(cxp.isfinite(W0)))
        if not finite or (B0 is not None and not bool(cxp.all(cxp.isfinite(B0)))):
            raise ValueError("coef_init and intercept_init must be finite.")
        return W0, B0


class GDBase(DocLinkMixin, SparseCoefMixin, StochasticFit, BaseEstimator):
    """The parameters, their checks and the fit shared by the skgd estimators.

    A subclass sets ``__init__`` with :func:`init_with`, adds its own entries to
    ``_parameter_constraints``, validates the data of its public methods and calls
    :meth:`_fit_validated`; it provides ``_validation_scorer(backend, X_val,
    Y_val, weight_val, k)``, the held-out score of early stopping. Where its
    ``coef_`` and ``intercept_`` are laid out otherwise than the solvers'
    coefficients, it overrides :meth:`_engine_coef` and :meth:`_public_coef`,
    which convert between the two.
    """

    _parameter_constraints = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "positive": ["boolean"],
        "penalty_weights": ["array-like", None],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "gd", "newton", "sgd", "adam"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "learning_rate": [
            StrOptions({"constant", "optimal", "invscaling", "adaptive"})
        ],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "adam_eps": [Interval(Real, 0, None, closed="neither")],
    }

    def _validate_params(self):
        """Check the parameters against ``_parameter_constraints``, as scikit-learn.

        scikit-learn builds every parameter's constraint objects (and reads the
        signature for ``get_params``) on each call, a fifth of the fixed cost of a
        small fit: here they are built once per class, and a scalar value (a
        Python number, string or None) that met them is remembered. A parameter
        that meets none of its constraints goes to scikit-learn's own check,
        which raises its error.
        """
        constraints_of, known = _constraints_of(type(self))
        if len(known) > _KNOWN_VALUES_MAX:
            known.clear()
        for name, constraints in constraints_of:
            value = getattr(self, name)
            key = (name, type(value), value) if type(value) in _SCALARS else None
            if key is not None and key in known:
                continue
            if not any(c.is_satisfied_by(value) for c in constraints):
                super()._validate_params()
                return
            if key is not None:
                known.add(key)

    def _check_params(self, n_classes=None):
        """Resolve the parameters into the objects fit uses (never stored on self).

        ``n_classes`` is the classifier's number of classes: its loss is the binary
        one of that name, or the multinomial one for ``log_loss`` with more classes
        (the other losses are then fitted one-vs-rest).
        """
        if n_classes is None:
            loss = get_loss(self.loss, epsilon=self.epsilon, quantile=self.quantile)
        elif n_classes > 2 and self.loss == "log_loss":
            loss = MultinomialLogLoss(n_classes=n_classes)
        else:
            loss = get_classifier_loss(self.loss, epsilon=self.epsilon)
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'.")
        l1_ratio = 0.15 if self.l1_ratio is None else self.l1_ratio
        penalty = get_penalty(
            self.penalty,
            alpha=self.alpha,
            l1_ratio=l1_ratio,
            positive=self.positive,
            weights=check_penalty_weights(self.penalty_weights),
        )
        # The full-batch solvers ("auto" among them) share one fit; which of them
        # runs is chosen there (see skgd.solvers._routing).
        solver = "gd" if self.solver in ("auto", "newton") else self.solver
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is used "
                "to compute the optimal learning rate."
            )
        return loss, penalty, solver

    def _warn_power_t(self):
        """Warn about a negative ``power_t`` as SGDRegressor does (once per fit)."""
        if self.power_t < 0:
            # SGDRegressor deprecated negative exponents (a step that grows with t)
            # in scikit-learn 1.8; the same values get the same warning here.
            warnings.warn(
                "Negative values for `power_t` are deprecated (as in scikit-learn "
                "1.8's SGDRegressor) and will raise an error in a future release. "
                "Use values in the range [0.0, inf) instead.",
                FutureWarning,
                stacklevel=3,
            )

    def _fit_validated(
        self,
        X,
        y,
        sample_weight,
        backend,
        *,
        partial=False,
        n_classes=None,
        coef_init=None,
        intercept_init=None,
        restart=False,
        **fitted,
    ):
        """Fit on validated data, or with ``partial`` make one stochastic pass.

        ``y`` is 1-D (one problem) or 2-D (one problem per column); with a loss of
        several outputs (the multinomial one) a 1-D ``y`` gives coefficients of
        shape ``(n_features, n_outputs)``. ``n_classes`` goes to
        :meth:`_check_params`. With ``restart`` the previous fit's coefficients
        and optimizer state are set aside, as for a first fit, and put back if
        this one fails. ``fitted`` holds further attributes of the subclass (the
        classifier's ``classes_``), assigned with the others once the solve has
        succeeded.
        """
        # The data's input attributes, set with the others once the solve succeeded.
        input_attributes = self.__dict__.pop("_validated_input", {})
        loss, penalty, solver = self._check_params(n_classes)
        check_penalty_weights(self.penalty_weights, X.shape[1])
        if partial:
            solver = "adam" if self.solver == "adam" else "sgd"
        elif solver != "gd":
            self._warn_power_t()
        scale = self._target_scale(y, backend, loss, solver, partial, n_classes)
        degree = 2
        if scale != 1.0:
            # Targets at a scale whose squares overflow or underflow: the equivalent
            # problem in y / scale is solved instead (see scaled_problem).
            loss, penalty, degree = scaled_problem(loss, penalty, scale)
            y = y / scale
            coef_init, intercept_init = (
                None if v is None else backend.coef_xp.asarray(v) / scale
                for v in (coef_init, intercept_init)
            )
        # A failed or interrupted fit puts back every attribute it changed.
        saved = dict(self.__dict__)
        if restart:
            for name in _CONTINUED:
                self.__dict__.pop(name, None)
        init = {"coef_init": coef_init, "intercept_init": intercept_init}
        try:
            if solver == "gd":
                with fit_threads(X):
                    fitted.update(
                        self._fit_gd(
                            X, y, sample_weight, backend, loss, penalty, **init
                        )
                    )
                if scale != 1.0:
                    unscale_fitted(fitted, scale, degree)
            else:
                fitted.update(
                    self._fit_minibatch(
                        X,
                        y,
                        sample_weight,
                        backend,
                        loss,
                        penalty,
                        solver,
                        scale=scale,
                        degree=degree,
                        partial=partial,
                        **init,
                    )
                )
                if n_classes is None:
                    fitted["target_scale_"] = scale
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        # Everything is assigned at the end: an interrupted fit changes nothing.
        if solver == "gd":  # a full-batch fit leaves no stochastic state behind
            for name in MINIBATCH_ATTRIBUTES:
                self.__dict__.pop(name, None)
        else:  # and a stochastic one certifies nothing
            self.__dict__.pop("dual_gap_", None)
        for name, value in fitted.items():
            setattr(self, name, value)
        # The values a stream's call held aside for loss_curve_ (see _stream).
        tail = self.__dict__.pop("_curve_tail", None)
        if tail:
            self.loss_curve_.extend(tail)
        self._validated_input = input_attributes
        commit_input_attributes(self)
        return self

    def _target_scale(self, y, backend, loss, solver, partial, n_classes):
        """Return the power of two that y is divided by (see target_scale).

        Labels and a log link's targets keep theirs (their losses are not
        homogeneous in y); a stream's later calls take the scale of its first.
        """
        if n_classes is not None or getattr(loss, "link", None) == "log":
            return 1.0
        carried = self._carried("target_scale_", 1.0, partial, solver)
        return target_scale(y, backend, carried, stochastic=solver != "gd")

    def _carried(self, name, default, partial, solver):
        """Return what a stream's first call fixed, if this call continues it.

        A ``partial`` call continues the stream of the stochastic state it finds
        (from ``partial_fit`` or a fit by the same ``solver``); otherwise None.
        """
        state = self.__dict__.get("_minibatch_state")
        if partial and state is not None and state["solver"] == solver:
            return self.__dict__.get(name, default)
        return None

    def _scaled_weights(self, weights, X, backend, *, partial):
        """Return the product of the validated ``weights`` at a usual scale.

        ``weights`` are the sample weights (and the classifier's class weights of
        each sample), ``None`` for none. The power of two they are divided by (see
        scaled_weights) is fixed by a stream's first call: the stochastic
        solvers' steps scale with the weights, so a ``partial`` call continuing
        the stream takes the same, and its weights stay relative to those of the
        earlier calls (no weights then mean weights of 1 in that unit). It is
        kept with the input attributes, set once the solve has succeeded.
        """
        solver = "adam" if self.solver == "adam" else "sgd"
        carried = self._carried("_weight_exponent", 0, partial, solver)
        if carried and all(w is None for w in weights):
            weights = [backend.full(X.shape[0], 1.0, X.dtype)]
        weights, exponent = scaled_weights(weights, backend, carried)
        self.__dict__.setdefault("_validated_input", {})["_weight_exponent"] = exponent
        return weights

    def _fit_gd(
        self, X, y, sample_weight, backend, loss, penalty, coef_init, intercept_init
    ):
        """Solve each target with the full-batch solver; return fitted attributes."""
        xp, cxp = backend.xp, backend.coef_xp
        Y = xp.reshape(y, (-1, 1)) if y.ndim == 1 else y
        n_targets = Y.shape[1]
        base = LinearObjective(
            backend,
            X,
            Y[:, 0],
            loss,
            penalty,
            sample_weight=sample_weight,
            fit_intercept=self.fit_intercept,
        )
        W0, B0 = self._start_point(
            coef_init, intercept_init, n_targets, base.coef_shape, X.dtype, backend
        )
        name, solve = full_batch_solver(base, self.solver)
        results, gaps = [], []
        for k in range(n_targets):
            objective = base if k == 0 else base.with_target(Y[:, k])
            w0 = W0[k, ...]
            c0 = (
                objective.offset(w0, _offset_of(B0[k, ...]))
                if B0 is not None
                else objective.initial_offset()
            )
            res = solve(
                objective,
                w0,
                c0,
                max_iter=self.max_iter,
                tol=0.0 if self.tol is None else self.tol,
                verbose=self.verbose,
            )
            if not res.converged and self.tol is not None:
                alpha = 0.0 if self.penalty is None else self.alpha
                ran = res.extra.get("solver", name)  # (Newton may hand over to gd)
                warn_not_converged(
                    ran,
                    self.max_iter,
                    f"{measure_name(objective, ran)} {res.extra['measure']:.2e}, "
                    f"tol={self.tol:g}",
                    convergence_advice(objective, alpha),
                    uncertified=res.extra.get("uncertified"),
                )
            results.append(res)
            gap = final_gap(objective, res.coef, res.intercept)
            if gap is None:
                gap = res.extra["measure"] * objective.reference_value()
            elif res.converged and self.tol is not None:
                _warn_gap_above_tol(
                    objective, gap, self.tol, res.extra.get("solver", name)
                )
            gaps.append(gap)
        if y.ndim == 1:
            # (One target: a copy of its coefficients, which the stack's one row
            # would be, without the stack's fixed cost.)
            coef = cxp.asarray(results[0].coef, copy=True)
        else:
            coef = cxp.stack([r.coef for r in results])
        intercepts = [r.intercept for r in results]
        if y.ndim == 1 and cxp is np_compat and base.n_outputs == 1:
            intercept = X.dtype.type(intercepts[0])
        else:
            if base.n_outputs == 1:
                intercept = cxp.asarray(
                    intercepts, dtype=X.dtype, device=backend.device
                )
            else:
                intercept = cxp.stack([cxp.astype(b, X.dtype) for b in intercepts])
            if y.ndim == 1:
                intercept = intercept[0, ...]
        coef, intercept = self._public_coef(coef, intercept, loss, backend)
        return {
            "coef_": coef,
            "intercept_": intercept,
            "n_iter_": int(max(r.n_iter for r in results)),
            "loss_curve_": _sum_curves([r.objective_curve for r in results]),
            "dual_gap_": gaps[0] if len(gaps) == 1 else np.asarray(gaps),
        }

    def _engine_coef(self, coef, coef_shape, xp):
        """Return a start ``coef`` (``coef_`` or ``coef_init``) in the solvers' layout.

        ``coef_shape`` is the solvers' shape of one target's coefficients; the
        layouts are the same here.
        """
        return coef

    def _public_coef(self, coef, intercept, loss, backend):
        """Return the solvers' coefficients and intercepts in ``coef_``'s layout."""
        return coef, intercept


def _warn_gap_above_tol(objective, gap, tol, name):
    """Warn where a result reported converged has a summed gap above ``tol``.

    Only where :func:`~skgd._gaps.fenchel_young_applies` (float32 Poisson,
    Gamma and Tweedie fits): a solver whose own stop is a difference of two
    sums rounded in float32 (L-BFGS) may meet ``tol`` by that rounding alone,
    where the gap summed from non-negative terms, which ``dual_gap_`` reports,
    does not.
    """
    ref = objective.reference_value()
    if not fenchel_young_applies(objective) or gap <= tol * ref:
        return
    warn_not_converged(
        name,
        None,
        uncertified=(
            "its stopping measure, rounded in float32, met tol, but the duality "
            f"gap summed from non-negative terms is {gap / ref:.2e} relative, "
            f"above tol={tol:g}. Use float64 data, or a smaller tol, for a "
            "result certified within tol"
        ),
    )


# The parameter values GDBase._validate_params remembers as valid: immutable
# scalars (a key holds the type, so True is not 1), at most this many per class.
_SCALARS = (int, float, str, bool, type(None))
_KNOWN_VALUES_MAX = 4096


@functools.cache
def _constraints_of(cls):
    """Return the constraints of ``cls``'s parameters and its set of valid values.

    The first is a tuple of ``(name, constraint objects)`` for each parameter
    with constraints; the second an empty set, for ``(name, type, value)``.
    """
    names = cls._get_param_names()
    constraints = tuple(
        (name, tuple(make_constraint(c) for c in constraints))
        for name, constraints in cls._parameter_constraints.items()
        if name in names and constraints != "no_validation"
    )
    return constraints, set()


def linear_predict(estimator, X, method):
    """Return ``X @ coef_.T + intercept_`` of a fitted linear estimator.

    ``X`` is checked against the fit (its namespace, device and width; ``method``
    names the public method in the errors). The coefficients take X's dtype when
    they differ; a Dask X gives a lazy result, computed blockwise.
    """
    check_is_fitted(estimator)
    X, backend = check_predict_data(estimator, X, method=method)
    coef = _dense(estimator.coef_)
    if coef.dtype != X.dtype:
        xp = backend.coef_xp
        coef = xp.astype(coef, xp.result_type(coef.dtype, X.dtype))
    coef = coef if coef.ndim == 1 else coef.T
    if is_dask(X):
        return (X @ coef) + estimator.intercept_
    return backend.matvec(X, coef) + estimator.intercept_


def _dense(coef):
    """Return ``coef_`` as an array: a :meth:`~GDBase.sparsify`-ed one densified."""
    return coef.toarray().reshape(coef.shape) if sp.issparse(coef) else coef


def _offset_of(b):
    """Return a start intercept: a float, or the array of a loss of several outputs."""
    return float(b) if b.ndim == 0 else b


def _sum_curves(curves):
    """Sum per-target objective curves, holding a finished curve at its last value."""
    n = max(len(c) for c in curves)
    total = [0.0] * n
    for curve in curves:
        for i in range(n):
            if curve:
                total[i] += curve[min(i, len(curve) - 1)]
    return total


def _rescale_stored(est, factor, degree, state_factor):
    """Multiply what ``est`` stores in y's units by ``factor``, in place.

    Coefficients are multiplied by ``factor``, objective values by
    ``factor**degree`` and the stream's coefficients by ``state_factor``: powers
    of two, so that a round trip is exact short of overflow and subnormals.
    """
    stored = est.__dict__
    if factor != 1.0:
        for name in _COEF_UNITS:
            if stored.get(name) is not None:
                stored[name] = stored[name] * factor
        # (v * f) * f: f**2 alone may overflow or underflow where the value does not.
        up = (lambda v: v * factor) if degree == 1 else (lambda v: v * factor * factor)
        for name in _OBJECTIVE_UNITS:
            value = stored.get(name)
            if isinstance(value, list):
                stored[name] = [up(v) for v in value]
            elif value is not None:
                stored[name] = up(value)
    state = stored.get("_minibatch_state")
    if state_factor != 1.0 and state is not None:
        stored["_minibatch_state"] = dict(
            state,
            coef=state["coef"] * state_factor,
            intercept=state["intercept"] * state_factor,
        )


def _is_seed(random_state):
    """Return whether ``random_state`` is an int seed (not a RandomState or None)."""
    return isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    )


# Rows up to which _SeededPermutations caches: 16 such permutations hold 8 MiB.
_PERMUTATION_CACHE_ROWS = 2**16


@functools.lru_cache(maxsize=16)
def _first_permutation(seed, n):
    """Return ``RandomState(seed).permutation(n)``, read-only (it is shared)."""
    perm = np.random.RandomState(seed).permutation(n)
    perm.flags.writeable = False
    return perm


class _SeededPermutations:
    """``check_random_state(seed)`` for a pass that draws a single permutation.

    With an int ``random_state`` each ``partial_fit`` call shuffles its rows with a
    fresh ``RandomState(seed)`` (as SGDRegressor's does), so the permutation depends
    only on the seed and the number of rows; seeding a Mersenne twister costs about
    0.1 ms, a fifth of a stochastic pass over 1,000 rows, so it is cached.
    """

    def __init__(self, seed):
        self.seed = seed

    def permutation(self, n):
        """Return the first permutation of ``range(n)`` drawn by the seed."""
        if n > _PERMUTATION_CACHE_ROWS:
            return np.random.RandomState(self.seed).permutation(n)
        return _first_permutation(self.seed, n)


def _squeeze_offset(intercepts, dtype):
    """Return the intercept of a 1-D ``y``: a 0-d numpy value, or a ``(K,)`` array."""
    first = intercepts[0]
    return dtype.type(first) if np.ndim(first) == 0 else first
