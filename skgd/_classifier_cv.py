# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDClassifierCV: alpha (and l1_ratio) of a GDClassifier chosen by cross-validation.

Each (l1_ratio, fold) pair fits a warm-started path of :class:`GDClassifier` from the
largest alpha down, each fit starting from the previous solution; the held-out
scores choose alpha and l1_ratio, and the chosen model is refitted on all the data
(or, with ``refit=False``, the folds' best models are averaged, as
LogisticRegressionCV does).
"""

import numbers
from dataclasses import dataclass, replace

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from skgd._advice import convergence_advice
from skgd._base import fill_shared_docs
from skgd._classifier import GDClassifier, _encode
from skgd._objective import LinearObjective
from skgd._path import _check_alphas, grid_from_max
from skgd._search import check_fold_weights, check_l1_ratios, check_search_data
from skgd._sklearn_compat import (
    DocLinkMixin,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
)
from skgd.losses import CLASSIFIER_LOSSES
from skgd.penalties import L1L2
from skgd.solvers._result import warn_not_converged
from skgd.solvers._routing import full_batch_solver, solve_newton_then_gd

Integral, Real = numbers.Integral, numbers.Real

# Where a refit follows, the paths' fits only rank the alphas: they stop at this
# many times ``tol``. Measured on benchmark case 21's data (three seeds, quick and
# full sizes, L2 grid): 15-20% fewer Newton steps, the same choice of alpha
# everywhere, single held-out scores moved by at most one sample; their
# suboptimality stays below LogisticRegressionCV's lbfgs paths' (1e-7 of the
# objective at zero), as Newton's last step squares the certified gap.
_PATH_TOL_FACTOR = 10.0


def classification_alpha_max(classifier, X, y, sample_weight=None):
    """Return the size of the loss gradient at zero coefficients, the grid's top.

    The gradient is taken in the coefficients at ``w = 0`` with the best constant
    intercept (the one the solver starts from), for the targets, classes and class
    weights that ``classifier`` would fit; the largest absolute entry (over
    features, and classes or one-vs-rest problems) is the smallest alpha of an L1
    penalty for which zero coefficients are optimal, exactly for ``log_loss`` (whose
    starting intercept is optimal) and approximately for the other losses.

    Parameters
    ----------
    classifier : GDClassifier
        Gives the loss, ``fit_intercept`` and ``class_weight``.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated training data.
    y : ndarray of shape (n_samples,)
        Class labels.
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        Validated weights.

    Returns
    -------
    alpha_max : float
        ``max |grad_w|`` at zero coefficients (0 without features).
    """
    return _alpha_max(_Problem.coded(classifier, X, y, sample_weight).objectives())


def _alpha_max(objectives):
    """Return :func:`classification_alpha_max` of a problem's objectives."""
    top = 0.0
    for objective in objectives:
        w = np.zeros(objective.coef_shape, dtype=objective.dtype)
        raw = objective.raw(w, objective.initial_offset())
        _, grad_w, _ = objective.gradient(raw)
        top = max(top, float(np.max(np.abs(np.asarray(grad_w)), initial=0.0)))
    return top


@dataclass
class _Problem:
    """A classification problem validated and coded for the loss, once per search.

    ``targets`` are the classifier's (one column, or one per class for the
    one-vs-rest losses), ``sample_weight`` includes the class weights and ``codes``
    are the labels' indices in ``classes``. The folds take its rows
    (:meth:`rows`); the path of one fold shares one objective per target
    (:meth:`objectives`), whose column statistics are computed once.
    """

    classifier: GDClassifier
    X: object
    targets: object
    sample_weight: object
    backend: object
    classes: object
    codes: object

    @classmethod
    def coded(cls, classifier, X, y, sample_weight):
        """Return the problem of validated ``X``, labels ``y`` and weights."""
        classes, codes = _encode(y)
        X, targets, sample_weight, backend = classifier._check_data(
            X, classes, codes, sample_weight, reset=True
        )
        return cls(classifier, X, targets, sample_weight, backend, classes, codes)

    def rows(self, index):
        """Return the problem on the rows ``index`` (a training fold).

        Raises where those rows lack a class: a fold's model would have fewer
        rows, or none at all for a binary problem.
        """
        present = np.unique(self.codes[index])
        if present.shape[0] != self.classes.shape[0]:
            raise ValueError(
                f"A training fold holds only the classes "
                f"{self.classes[present.astype(int)]!r} of {self.classes!r}: use a "
                "stratified splitter (the default) or fewer folds."
            )
        weight = self.sample_weight
        return _Problem(
            self.classifier,
            self.X[index],
            self.targets[index],
            None if weight is None else weight[index],
            self.backend,
            self.classes,
            self.codes[index],
        )

    def objectives(self, penalty=None):
        """Return the objective of each target, at ``penalty`` (else an L1 of 1)."""
        loss, _, _ = self.classifier._check_params(self.classes.shape[0])
        Y = self.targets[:, None] if self.targets.ndim == 1 else self.targets
        base = LinearObjective(
            self.backend,
            self.X,
            Y[:, 0],
            loss,
            L1L2(1.0, 1.0) if penalty is None else penalty,
            sample_weight=self.sample_weight,
            fit_intercept=self.classifier.fit_intercept,
        )
        return [base] + [base.with_target(Y[:, k]) for k in range(1, Y.shape[1])]


def _solve_path(problem, alphas):
    """Fit ``problem.classifier`` along ``alphas``, each fit from the previous one.

    The objectives are built once (their column statistics with them) and take
    each alpha's penalty; the solver is the one GDClassifier's fit would run
    (:func:`~skgd.solvers._routing.full_batch_solver`), started from the
    previous alpha's coefficients and centered offsets and, for Newton, its
    last Hessian (the first step of each alpha then builds none: see
    :func:`~skgd.solvers._newton.solve_newton`). Returns the coefficients in
    ``coef_``'s layout with the intercepts last, of shape ``(n_alphas, n_rows,
    n_features + 1)``, and the iterations per alpha; a ConvergenceWarning names
    the alphas whose fit missed ``tol``.
    """
    classifier = problem.classifier
    n_classes = problem.classes.shape[0]
    objectives = problem.objectives(classifier._check_params(n_classes)[1])
    starts = [
        (np.zeros(o.coef_shape, dtype=o.dtype), o.initial_offset(), {})
        for o in objectives
    ]
    coefs, n_iter, missed = [], [], []
    for alpha in alphas:
        # (The path's own classifier: set_params would inspect its signature.)
        classifier.alpha = float(alpha)
        penalty = classifier._check_params(n_classes)[1]
        # (Each from the previous alpha's, whose reference value it keeps.)
        objectives = [o.with_penalty(penalty) for o in objectives]
        name, solve = full_batch_solver(objectives[0], classifier.solver)
        kw = {"max_iter": classifier.max_iter, "tol": classifier.tol}
        results = [
            solve(o, w, c, **kw, **(state if solve is solve_newton_then_gd else {}))
            for o, (w, c, state) in zip(objectives, starts, strict=True)
        ]
        starts = [
            (r.coef, o.offset(r.coef, r.intercept), _state(r))
            for o, r in zip(objectives, results, strict=True)
        ]
        if not all(r.converged for r in results):
            missed.append((float(alpha), name, objectives[0]))
        coefs.append(np.vstack([_public_row(r) for r in results]))
        n_iter.append(max(r.n_iter for r in results))
    if missed:
        alpha, name, objective = min(missed, key=lambda m: m[0])
        warn_not_converged(
            name,
            classifier.max_iter,
            f"at {len(missed)} of {len(alphas)} alphas, the smallest {alpha:.3g}",
            convergence_advice(objective, alpha),
        )
    return np.array(coefs), np.array(n_iter)


def _state(result):
    """Return the solver state a result passes to the next alpha's Newton run."""
    hessian = result.extra.get("hessian")
    return {} if hessian is None else {"hessian": hessian}


def _public_row(result):
    """Return a result's coefficients and intercepts as rows of ``[coef_, b]``."""
    coef = np.asarray(result.coef)
    intercept = np.reshape(np.asarray(result.intercept, dtype=coef.dtype), (-1, 1))
    # A loss of several outputs (multinomial) holds (n_features, n_classes).
    rows = coef.T if coef.ndim == 2 else coef[None, :]
    return np.hstack([rows, intercept])


def _fold_path(problem, y, sample_weight, train, test, alphas, scorer):
    """Fit ``problem.classifier`` along ``alphas`` on ``train``; score ``test``.

    Returns the coefficients of shape ``(n_alphas, n_rows, n_features + 1)`` (the
    intercepts last), the iterations and the held-out scores per alpha. The
    accuracy (``scorer`` None) is counted from the predictions directly; another
    scorer is given each alpha's model as a fitted GDClassifier.
    """
    coefs, n_iter = _solve_path(problem.rows(train), alphas)
    X_test = problem.X[test]
    sw_test = None if sample_weight is None else sample_weight[test]
    if scorer is None:
        hit = (
            _predicted_codes(problem.backend, X_test, coefs)
            == problem.codes[test, None]
        )
        scores = np.average(hit, axis=0, weights=sw_test)
    else:
        params = {} if sw_test is None else {"sample_weight": sw_test}
        scores = [
            scorer(
                _model_of(
                    problem.classifier, problem.classes, coef, X_test.dtype, alpha
                ),
                X_test,
                y[test],
                **params,
            )
            for alpha, coef in zip(alphas, coefs, strict=True)
        ]
    return coefs, n_iter, np.asarray(scores, dtype=float)


def _predicted_codes(backend, X, coefs):
    """Return the predicted class indices of ``X`` for each of ``coefs``.

    ``coefs`` has shape ``(n_alphas, n_rows, n_features + 1)``; the decision
    values of all the alphas are one product with X (in X's dtype, as
    GDClassifier's predictions), and the result has shape ``(n_samples,
    n_alphas)``: the class of the largest score, or of a positive one for a
    single row.
    """
    n_alphas, n_rows, width = coefs.shape
    W = coefs[:, :, :-1].reshape(n_alphas * n_rows, width - 1).T.astype(X.dtype)
    raw = np.asarray(backend.matvec(X, W)).reshape(-1, n_alphas, n_rows)
    raw = raw + coefs[:, :, -1].astype(X.dtype)
    if n_rows == 1:
        return (raw[:, :, 0] > 0).astype(np.intp)
    return np.argmax(raw, axis=2)


def _model_of(classifier, classes, coef, dtype, alpha):
    """Return a GDClassifier with ``coef`` (rows of ``[coef_, b]``) as its model."""
    model = clone(classifier).set_params(alpha=float(alpha))
    model.classes_ = classes
    model.n_features_in_ = coef.shape[1] - 1
    model.coef_ = coef[:, :-1].astype(dtype)
    model.intercept_ = coef[:, -1].astype(dtype)
    return model


def _first_best(scores):
    """Return the (l1_ratio, alpha) indices of the best of ``scores``.

    ``scores`` has shape ``(n_l1_ratios, n_alphas)``. Ties go to the earlier alpha
    (the larger one: the simpler model), then to the earlier l1_ratio, which is
    LogisticRegressionCV's rule (its smaller C first).
    """
    k, i = np.unravel_index(np.argmax(scores.T), scores.T.shape)
    return i, k


def _final_model_method(name):
    """Return a method that calls ``name`` of the final GDClassifier (same doc)."""

    def method(self, X):
        return getattr(self._fitted(), name)(X)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = getattr(GDClassifier, name).__doc__
    return method


@fill_shared_docs
class GDClassifierCV(DocLinkMixin, ClassifierMixin, BaseEstimator):
    r"""Linear classification with alpha (and l1_ratio) chosen by cross-validation.

    For each fold (and each ``l1_ratio``) a :class:`GDClassifier` is fitted along
    the decreasing grid of alphas, each fit warm-started from the previous
    solution; the alpha (and ``l1_ratio``) of the best mean held-out score is then
    refitted on all the data, starting from the mean of the folds' solutions. With
    ``loss="log_loss"`` this is :class:`~sklearn.linear_model.LogisticRegressionCV`
    (binary, or multinomial for more classes) on the grid ``alpha = 1 / (C n)``.

    ``alpha`` is per sample (the objective is the *mean* loss plus the penalty, see
    :class:`GDClassifier`), so one alpha means the same regularization on every
    training fold and on the refit. A grid of ``Cs`` means ``alpha = 1 / (C n)``
    with ``n`` the size (the sum of the sample and class weights) of the data that
    it is fitted on: on folds of ``n_train`` samples, LogisticRegressionCV's
    ``Cs`` are the alphas ``1 / (Cs * n_train)`` here, and pick the same index;
    its refit then uses ``C_`` on all ``n`` samples, a slightly weaker penalty than
    the ``alpha_`` refitted here.

    Read more in the :ref:`User Guide <gd_classifier_cv>`.

    Parameters
    ----------
    alphas : int or array-like, default=10
        Number of alphas of the automatic grid, log-spaced from ``alpha_max`` down
        to ``eps * alpha_max``, or the alphas themselves (fitted in decreasing
        order). ``alpha_max`` is computed on all the data: the smallest alpha that
        zeroes every coefficient of an L1 penalty of share ``l1_ratio`` (see
        :func:`classification_alpha_max`), divided by the ``l1_ratio``; for
        ``penalty="l2"`` it is that of the L1 penalty.
    eps : float, default=1e-4
        Length of the automatic grid: ``alpha_min = eps * alpha_max``, in
        ``(0, inf)``.
    penalty : {"l2", "l1", "elasticnet"}, default="l2"
        The penalty (see :class:`GDClassifier`).
    l1_ratio : float or array-like of float, default=None
        Share(s) of the L1 term with ``penalty="elasticnet"`` (required then), in
        ``[0, 1]``; a list is searched too. Ignored by the other penalties.
    loss : {"log_loss", "hinge", "modified_huber"}, default="log_loss"
        The loss (see :class:`GDClassifier`).
    fit_intercept : bool, default=True
        Whether to fit (unpenalized) intercepts.
    max_iter : int, default=1000
        Iteration budget of each fit, in ``[1, inf)``.
    tol : float, default=1e-4
        Stopping tolerance of the final fit, in ``[0, inf)``: a certified duality
        gap relative to the objective of the best constant model (see
        :class:`GDClassifier`). With ``refit`` the fits along the paths, which
        only rank the alphas, stop at 10 times ``tol``; without it at ``tol``
        (their mean is the final model).
    cv : int, cross-validation generator or iterable, default=None
        As in :func:`sklearn.model_selection.check_cv` for a classifier (None:
        5-fold stratified).
    scoring : str, callable or None, default=None
        Held-out score maximised (None: the accuracy). Scores are weighted by the
        held-out sample weights when ``fit`` is given some.
    refit : bool, default=True
        Whether to refit the best alpha (and ``l1_ratio``) on all the data. If
        False, each fold's best model is taken and their coefficients, intercepts,
        alphas and l1_ratios are averaged, as LogisticRegressionCV does.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights. ``"balanced"`` is
        computed once on all the data (as LogisticRegressionCV does) and used in
        every fold.
    random_state : int, RandomState instance or None, default=None
        Passed to the inner :class:`GDClassifier` (whose full-batch solver draws
        nothing: it has no effect today).
    n_jobs : int or None, default=None
        Number of (l1_ratio, fold) paths fitted in parallel through joblib (in
        threads).
    verbose : int, default=0
        Verbosity of joblib.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    alpha_ : float
        The chosen alpha (with ``refit=False``, the mean of the folds' best).
    l1_ratio_ : float
        The chosen ``l1_ratio`` (0 for ``"l2"``, 1 for ``"l1"``).
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
        The grids, in decreasing order, one per ``l1_ratio`` (squeezed for one).
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The ``l1_ratio`` values searched.
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas)
        Held-out scores, in the layout of LogisticRegressionCV's ``scores_``
        (scikit-learn 1.8's array layout, not its legacy dict per class).
    coefs_paths_ : ndarray of shape \
            (n_folds, n_l1_ratios, n_alphas, n_rows, n_features + 1)
        Coefficients of every fit, intercepts last, with ``n_rows`` the rows of
        ``coef_`` (1 for a binary problem).
    n_iter_ : int
        Iterations of the refit (with ``refit=False``: the most of any fit).
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients of the final model.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of the final model.
    classifier_ : GDClassifier
        The final model, whose methods the predictions call.
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    GDClassifier : The estimator fitted along the path and refitted.
    GDRegressorCV : The regression counterpart.
    sklearn.linear_model.LogisticRegressionCV : The ``C``-grid counterpart.

    Examples
    --------
    Scaling inside a pipeline keeps the held-out folds out of the scaler's fit:

    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgd import GDClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), GDClassifierCV(alphas=8, cv=5))
    >>> clf = model.fit(X, y)[-1]
    >>> clf.scores_.shape
    (5, 1, 8)
    >>> round(float(clf.alpha_), 5)
    0.00741
    >>> round(model.score(X, y), 3)
    0.986
    """

    _parameter_constraints = {
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like", None],
        "loss": [StrOptions(set(CLASSIFIER_LOSSES))],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "refit": ["boolean"],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        alphas=10,
        eps=1e-4,
        penalty="l2",
        l1_ratio=None,
        loss="log_loss",
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        cv=None,
        scoring=None,
        refit=True,
        class_weight=None,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.alphas = alphas
        self.eps = eps
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.class_weight = class_weight
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _l1_ratios(self):
        """Return the ``l1_ratio`` values searched, as an array."""
        if self.penalty != "elasticnet":
            return np.array([1.0 if self.penalty == "l1" else 0.0])
        if self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'.")
        return check_l1_ratios(self.l1_ratio)

    def _classifier(self, l1_ratio, class_weight, **params):
        """Return the GDClassifier that fits one ``l1_ratio``."""
        return GDClassifier(
            loss=self.loss,
            penalty=self.penalty,
            l1_ratio=l1_ratio if self.penalty == "elasticnet" else None,
            fit_intercept=self.fit_intercept,
            max_iter=self.max_iter,
            class_weight=class_weight,
            random_state=self.random_state,
            **{"tol": self.tol, **params},
        )

    def _grids(self, problem, l1_ratios):
        """Return the alpha grid of each ``l1_ratio`` (decreasing)."""
        if not isinstance(self.alphas, Integral):
            return [_check_alphas(self.alphas)] * len(l1_ratios)
        # One gradient for all the l1_ratios: alpha_max scales as 1/l1_ratio.
        top = _alpha_max(problem.objectives())
        return [
            grid_from_max(top / (r if r > 0 else 1.0), self.alphas, self.eps)
            for r in l1_ratios
        ]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha (and l1_ratio) by cross-validation, then refit on all data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, in memory: dense, or CSR/CSC kept sparse.
        y : array-like of shape (n_samples,)
            Class labels (any type that :func:`numpy.unique` sorts), at least two.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights: multiplied by the class weights in every fit,
            and weighting the held-out scores.
        **params : dict
            For the splitter's ``split``, ``groups`` for instance.

        Returns
        -------
        self : GDClassifierCV
            The estimator, with the chosen model fitted.
        """
        X, y, sample_weight = check_search_data(
            self, X, y, sample_weight, y_numeric=False
        )
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.shape[0] < 2:
            raise ValueError(
                "GDClassifierCV needs samples of at least 2 classes in the data; got "
                f"{classes.shape[0]} class."
            )
        class_weight = self.class_weight
        if class_weight == "balanced":
            balanced = compute_class_weight("balanced", classes=classes, y=y)
            class_weight = dict(zip(classes, balanced, strict=True))
        l1_ratios = self._l1_ratios()
        # Validated and coded once: the folds take its rows, every l1_ratio its
        # targets and weights (they depend on the loss and class weights only).
        problem = _Problem.coded(
            self._classifier(l1_ratios[0], class_weight), X, y, sample_weight
        )
        grids = self._grids(problem, l1_ratios)
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y, **params))
        check_fold_weights(folds, sample_weight)
        scorer = check_scoring(self._classifier(None, None), scoring=self.scoring)
        if self.scoring in (None, "accuracy"):
            scorer = None  # (counted from the predictions: see _fold_path)
        tol = self.tol * (_PATH_TOL_FACTOR if self.refit else 1.0)
        jobs = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(
            delayed(_fold_path)(
                replace(
                    problem, classifier=self._classifier(ratio, class_weight, tol=tol)
                ),
                y,
                sample_weight,
                train,
                test,
                grid,
                scorer,
            )
            for train, test in folds
            for ratio, grid in zip(l1_ratios, grids, strict=True)
        )
        shape = (len(folds), len(l1_ratios))
        coefs = np.array([job[0] for job in jobs])
        self.coefs_paths_ = coefs.reshape(shape + coefs.shape[1:])
        self.scores_ = np.array([job[2] for job in jobs]).reshape(shape + (-1,))
        path_iters = max(int(job[1].max()) for job in jobs)
        self.classes_ = classes
        self.l1_ratios_ = l1_ratios
        self.alphas_ = grids[0] if len(l1_ratios) == 1 else np.array(grids)
        final = self._final_model(
            X, y, sample_weight, class_weight, np.array(grids), path_iters
        )
        self.coef_, self.intercept_ = final.coef_, final.intercept_
        self.classifier_ = final
        return self

    def _final_model(self, X, y, sample_weight, class_weight, alphas, path_iters):
        """Set ``alpha_``, ``l1_ratio_`` and ``n_iter_``; return the final model.

        With ``refit``, the best mean score's GDClassifier refitted on all the
        data from the mean of the folds' solutions (as LogisticRegressionCV
        starts its refit); otherwise the mean of the folds' best models.
        """
        l1_ratios = self.l1_ratios_
        if self.refit:
            i, k = _first_best(self.scores_.mean(axis=0))
            self.alpha_, self.l1_ratio_ = float(alphas[i, k]), float(l1_ratios[i])
            start = self.coefs_paths_[:, i, k].mean(axis=0)
            final = self._classifier(self.l1_ratio_, class_weight, alpha=self.alpha_)
            final.fit(
                X,
                y,
                coef_init=start[:, :-1],
                intercept_init=start[:, -1],
                sample_weight=sample_weight,
            )
            self.n_iter_ = final.n_iter_
        else:
            best = [_first_best(fold) for fold in self.scores_]
            self.alpha_ = float(np.mean([alphas[i, k] for i, k in best]))
            self.l1_ratio_ = float(np.mean([l1_ratios[i] for i, _ in best]))
            start = np.mean(
                [self.coefs_paths_[f, i, k] for f, (i, k) in enumerate(best)], axis=0
            )
            final = _model_of(
                self._classifier(self.l1_ratio_, class_weight),
                self.classes_,
                start,
                X.dtype,
                self.alpha_,
            )
            self.n_iter_ = path_iters
        if hasattr(self, "feature_names_in_"):
            final.feature_names_in_ = self.feature_names_in_
        return final

    # ------------------------------------------------------------- prediction
    # The predictions are those of the final GDClassifier, and so are their docs.
    def _fitted(self):
        """Return the final GDClassifier, after checking that fit was called."""
        check_is_fitted(self)
        return self.classifier_

    def _has_proba(self):
        return self.loss in ("log_loss", "modified_huber")

    decision_function = _final_model_method("decision_function")
    predict = _final_model_method("predict")
    predict_proba = available_if(_has_proba)(_final_model_method("predict_proba"))
    predict_log_proba = available_if(_has_proba)(
        _final_model_method("predict_log_proba")
    )

    def __sklearn_tags__(self):
        """Declare sparse input support."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
