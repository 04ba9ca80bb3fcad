# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDRegressorCV: alpha (and l1_ratio) chosen by cross-validation along warm paths.

Each fold solves a whole regularization path with :func:`skgd._path.solve_path`,
warm-starting every alpha from the previous one, which is what makes it cheaper than
refitting from scratch for every grid point as GridSearchCV does. The model at the
chosen alpha is refitted on all the data, in the Gram form where the folds'
solutions there use most of the features.
"""

import numbers

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv

from skgd._backend import get_backend
from skgd._base import check_penalty_weights, fill_shared_docs, linear_predict
from skgd._estimator import GDRegressor
from skgd._path import (
    _check_alphas,
    data_alpha_max,
    grid_from_max,
    path_objective,
    solve_path,
)
from skgd._planner import gram_applies, in_form
from skgd._search import check_fold_weights, check_l1_ratios, check_search_data
from skgd._sklearn_compat import DocLinkMixin, Interval, StrOptions, _fit_context
from skgd._validation import rescale_weights, target_scale
from skgd.solvers._gram_enet import silenced_cd

Integral, Real = numbers.Integral, numbers.Real


def _fold_path(X, y, sample_weight, train, test, alphas, l1_ratio, params, scorer):
    """Solve the path on ``train``; return test MSEs (and scores) per alpha.

    ``y`` is the targets divided by ``params["scale"]``, and so are the MSEs. The
    third value is the number of nonzero coefficients at each alpha.
    """
    scale = params["scale"]
    sw_train = None if sample_weight is None else sample_weight[train]
    objective = path_objective(
        X[train],
        y[train],
        sample_weight=sw_train,
        fit_intercept=params["fit_intercept"],
        l1_ratio=l1_ratio,
        positive=params["positive"],
        penalty_weights=params["penalty_weights"],
    )
    coefs, intercepts, _ = solve_path(
        objective,
        alphas,
        l1_ratio,
        tol=params["tol"],
        max_iter=params["max_iter"],
        scale=scale,
    )
    X_test, y_test = X[test], y[test]
    # The backend's product: in row blocks on the calling thread where it is small
    # (X_test @ coefs on BLAS's threads took up to 100 ms per fold with other
    # processes on the cores).
    pred = np.asarray(get_backend(X_test).matvec(X_test, coefs)) + intercepts
    sw_test = None if sample_weight is None else sample_weight[test]
    mse = np.average((y_test[:, None] - pred) ** 2, axis=0, weights=sw_test)
    scores = None
    if scorer is not None:
        scores = np.empty(len(alphas))
        for k in range(len(alphas)):
            model = GDRegressor(fit_intercept=params["fit_intercept"])
            model.coef_ = coefs[:, k] * scale
            model.intercept_ = intercepts[k] * scale
            model.n_features_in_ = X.shape[1]
            scores[k] = scorer(model, X_test, y_test * scale)
    return mse, scores, np.count_nonzero(coefs, axis=0)


def _refit(est, X, y, sample_weight, weights, scale, support):
    """Return ``(coef, intercept, n_iter)`` at the chosen alpha, fitted on all of X.

    Where the folds' solutions there use more than half of the features
    (``support``, the most of any fold), working sets would gather and multiply
    most columns of X before they give way to the full problem
    (``skgd.solvers._working_set._FULL_SHARE``): where the Gram form applies,
    the refit solves in it from the start, as the folds' paths do (2,000 x 500,
    291 nonzero coefficients: 14 ms against 45 ms, a quiet machine). Otherwise
    it is a :class:`GDRegressor` fit.
    """
    if 2 * support > X.shape[1]:
        objective = path_objective(
            X,
            y / scale,
            sample_weight=sample_weight,
            fit_intercept=est.fit_intercept,
            l1_ratio=est.l1_ratio_,
            positive=est.positive,
            penalty_weights=weights,
        )
        if gram_applies(objective):
            coefs, intercepts, n_iters = solve_path(
                in_form(objective, "gram"),
                [est.alpha_],
                est.l1_ratio_,
                tol=est.tol,
                max_iter=est.max_iter,
                scale=scale,
            )
            intercept = np.asarray(intercepts[0] * scale, dtype=X.dtype)[()]
            return coefs[:, 0] * scale, intercept, int(n_iters[0])
    final = GDRegressor(
        penalty="elasticnet",
        alpha=est.alpha_,
        l1_ratio=est.l1_ratio_,
        fit_intercept=est.fit_intercept,
        tol=est.tol,
        max_iter=est.max_iter,
        positive=est.positive,
        penalty_weights=weights,
    ).fit(X, y, sample_weight=sample_weight)
    return final.coef_, final.intercept_, final.n_iter_


def _solve_folds(X, tasks, n_jobs, verbose):
    """Return the result of every ``(l1_ratio, fold)`` task, in their order.

    By joblib's ``Parallel`` (threads). The warning of the compiled loop's
    runs is silenced once around them all (:func:`silenced_cd`), not in each
    thread.
    """
    with silenced_cd():
        return Parallel(n_jobs=n_jobs, verbose=verbose, prefer="threads")(
            delayed(task)(*args) for task, *args in tasks
        )


def _print_path(l1_ratios, grids, mse, chosen):
    """Print the mean held-out MSE of each (l1_ratio, alpha) and the chosen pair."""
    for i, (ratio, grid) in enumerate(zip(l1_ratios, grids, strict=True)):
        for k, alpha in enumerate(grid):
            print(
                f"[GDRegressorCV] l1_ratio={ratio:g}  alpha {alpha:.4e}  "
                f"mean MSE {mse[i, k].mean():.6e} over {mse.shape[2]} folds"
            )
    i, k = chosen
    print(f"[GDRegressorCV] chose l1_ratio={l1_ratios[i]:g}, alpha={grids[i][k]:.4e}")


@fill_shared_docs
class GDRegressorCV(DocLinkMixin, RegressorMixin, BaseEstimator):
    r"""Elastic-net regression with alpha and l1_ratio chosen by cross-validation.

    For each ``l1_ratio`` and each fold, the whole regularization path of the
    squared loss (the objective of :class:`GDRegressor`) is solved with warm starts
    by the full-batch solver; the alpha (and ``l1_ratio``) with the lowest mean
    held-out error is then refitted on all the data. This is
    :class:`~sklearn.linear_model.ElasticNetCV` (``LassoCV`` with ``l1_ratio=1``),
    on the same alpha grid and with the same ``mse_path_``, for dense or sparse X.

    Read more in the :ref:`User Guide <gd_regressor>`.

    Parameters
    ----------
    l1_ratio : float or array-like of float, default=0.5
        Share(s) of the L1 term, in ``[0, 1]``; a list is searched too.
    eps : float, default=1e-3
        Length of the automatic grid: ``alpha_min = eps * alpha_max``, in
        ``(0, inf)``.
    alphas : int or array-like, default=100
        Number of alphas of the automatic grid (log-spaced from ``alpha_max``, the
        smallest alpha that zeroes every coefficient, computed on all the data), or
        the alphas themselves.
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    max_iter : int, default=1000
        Iteration budget per alpha, in ``[1, inf)``.
    tol : float, default=1e-4
        Relative duality gap per alpha, in ``[0, inf)`` (see :class:`GDRegressor`).
    cv : int, cross-validation generator or iterable, default=None
        As in :func:`sklearn.model_selection.check_cv` (None: 5-fold).
    scoring : str, callable or None, default=None
        If given, the alpha maximising the mean of this score is chosen (and
        ``scores_path_`` is stored) instead of the one minimising the MSE.
    n_jobs : int or None, default=None
        Number of (l1_ratio, fold) paths solved in parallel through joblib (a
        ``joblib.parallel_backend("dask")`` context runs them on a Dask cluster).
    verbose : int, default=0
        When positive, print each alpha's mean held-out MSE over the folds, per
        l1_ratio, and the chosen values; joblib reports its jobs too.
    positive : bool, default=False
        Constrain the coefficients to ``w >= 0`` along the paths and in the refit
        (as ``ElasticNetCV(positive=True)``); the grid starts at the largest
        positive correlation.
    penalty_weights : array-like of shape (n_features,) or None, default=None
        Non-negative factors of alpha, feature by feature (0: unpenalized), as
        :class:`GDRegressor`'s; the grid's ``alpha_max`` is computed over the
        penalized features.

    Attributes
    ----------
    alpha_ : float
        Chosen alpha.
    l1_ratio_ : float
        Chosen l1_ratio.
    coef_ : ndarray of shape (n_features,)
        Coefficients refitted on all data.
    intercept_ : float
        Intercept refitted on all data.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grids, one per l1_ratio (squeezed for a single l1_ratio).
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Held-out mean squared error (sample-weighted when weights are given).
    scores_path_ : ndarray, same shape as ``mse_path_``
        Held-out scores, when ``scoring`` is given.
    n_iter_ : int
        Iterations of the final refit.
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    sklearn.linear_model.ElasticNetCV : Coordinate-descent counterpart.
    sklearn.linear_model.LassoCV : The ``l1_ratio=1`` case.
    GDRegressor : The estimator refitted at the chosen alpha.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skgd import GDRegressorCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = GDRegressorCV(l1_ratio=[0.5, 1.0], alphas=30, cv=5).fit(X, y)
    >>> float(reg.l1_ratio_), round(float(reg.alpha_), 4)
    (1.0, 0.0035)
    >>> reg.mse_path_.shape
    (2, 30, 5)
    """

    _parameter_constraints = {
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "positive": ["boolean"],
        "penalty_weights": ["array-like", None],
    }

    def __init__(
        self,
        *,
        l1_ratio=0.5,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        cv=None,
        scoring=None,
        n_jobs=None,
        verbose=0,
        positive=False,
        penalty_weights=None,
    ):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.positive = positive
        self.penalty_weights = penalty_weights

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha (and l1_ratio) by cross-validation, then refit on all data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (CSR/CSC sparse matrices are not densified).
        y : array-like of shape (n_samples,)
            Target.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, used in the fits and in the held-out errors.
        **params : dict
            Passed to the splitter's ``split`` (for instance ``groups``).

        Returns
        -------
        self : GDRegressorCV
            The fitted estimator.
        """
        X, y, sample_weight = check_search_data(
            self, X, y, sample_weight, y_numeric=True
        )
        y = np.asarray(y, dtype=X.dtype)
        weights = check_penalty_weights(self.penalty_weights, X.shape[1])
        # Targets and weights at extreme scales: the folds solve y / scale (a power
        # of two) with each penalty mapped to match, as GDRegressor does.
        backend = get_backend(X)
        scale = target_scale(y, backend)
        if sample_weight is not None:
            sample_weight = rescale_weights(sample_weight, backend)
        l1_ratios = check_l1_ratios(self.l1_ratio)
        if isinstance(self.alphas, Integral):
            if np.any(l1_ratios <= 0):
                raise ValueError(
                    "An automatic alpha grid needs l1_ratio > 0 (with l1_ratio=0 no "
                    "finite alpha zeroes every coefficient); pass the alphas "
                    "explicitly."
                )
            # One pass over X for all the l1_ratios: alpha_max scales as 1/l1_ratio.
            top = data_alpha_max(
                X,
                y / scale,
                1.0,
                sample_weight=sample_weight,
                fit_intercept=self.fit_intercept,
                positive=self.positive,
                penalty_weights=weights,
            )
            # (In y / scale's units, then mapped back: alpha_max is the L1 part's.)
            grids = [
                grid_from_max(top / r, self.alphas, self.eps) * scale for r in l1_ratios
            ]
        else:
            alphas = _check_alphas(self.alphas)
            grids = [alphas] * len(l1_ratios)
        folds = list(check_cv(self.cv).split(X, y, **params))
        check_fold_weights(folds, sample_weight)
        scorer = None if self.scoring is None else check_scoring(self, self.scoring)
        options = {
            "fit_intercept": self.fit_intercept,
            "tol": self.tol,
            "max_iter": self.max_iter,
            "positive": self.positive,
            "penalty_weights": weights,
            "scale": scale,
        }
        y_scaled = y / scale
        tasks = [
            (_fold_path, X, y_scaled, sample_weight, train, test, grid, ratio)
            + (options, scorer)
            for ratio, grid in zip(l1_ratios, grids, strict=True)
            for train, test in folds
        ]
        jobs = _solve_folds(X, tasks, self.n_jobs, self.verbose)
        n_folds = len(folds)
        mse = (
            np.array([job[0] for job in jobs])
            .reshape(len(l1_ratios), n_folds, -1)
            .transpose(0, 2, 1)
        )
        if scorer is None:
            i, k = np.unravel_index(np.argmin(mse.mean(axis=2)), mse.shape[:2])
        else:
            scores = (
                np.array([job[1] for job in jobs])
                .reshape(len(l1_ratios), n_folds, -1)
                .transpose(0, 2, 1)
            )
            i, k = np.unravel_index(np.argmax(scores.mean(axis=2)), scores.shape[:2])
            self.scores_path_ = np.squeeze(scores) if len(l1_ratios) == 1 else scores
        if self.verbose:
            _print_path(l1_ratios, grids, mse, (i, k))
        self.alpha_ = float(grids[i][k])
        self.l1_ratio_ = float(l1_ratios[i])
        self.alphas_ = grids[0] if len(l1_ratios) == 1 else np.array(grids)
        # In y's units: squared errors beyond float's range are inf (or 0), as
        # they are for ElasticNetCV. (s**2 alone may overflow where this does not.)
        with np.errstate(over="ignore", under="ignore"):
            mse = (mse * scale) * scale
        self.mse_path_ = mse[0] if len(l1_ratios) == 1 else mse

        support = max(job[2][k] for job in jobs[i * n_folds : (i + 1) * n_folds])
        self.coef_, self.intercept_, self.n_iter_ = _refit(
            self, X, y, sample_weight, weights, scale, support
        )
        return self

    def predict(self, X):
        """Predict with the refitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, with the features seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predictions.
        """
        return linear_predict(self, X, "predict")

    def __sklearn_tags__(self):
        """Declare sparse input support."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
