# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GDClassifierCV: LogisticRegressionCV's choice on the same folds, and its API."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skgd import GDClassifier, GDClassifierCV

CS = np.logspace(-2, 1, 4)
TIGHT = {"tol": 1e-12, "max_iter": 100_000}


def _standardized(load, n=None):
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return (X, y) if n is None else (X[:n], y[:n])


def _folds(n, k=3):
    """Shuffled folds of equal training size (``n`` divisible by ``k``)."""
    return list(KFold(k, shuffle=True, random_state=0).split(np.zeros(n)))


# Binary (breast cancer, 567 = 3 x 189 rows) and multinomial (iris).
PROBLEMS = {
    "binary": lambda: _standardized(load_breast_cancer, 567),
    "multiclass": lambda: _standardized(load_iris),
}


def _logistic_cv(X, y, folds, **kw):
    return LogisticRegressionCV(
        Cs=CS,
        cv=folds,
        l1_ratios=(0.0,),
        use_legacy_attributes=False,
        tol=1e-10,
        max_iter=10_000,
        **kw,
    ).fit(X, y)


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("scoring", ["accuracy", "neg_log_loss"])
def test_same_choice_as_logistic_regression_cv(problem, scoring):
    X, y = PROBLEMS[problem]()
    folds = _folds(len(y))
    n_train = len(folds[0][0])
    ref = _logistic_cv(X, y, folds, scoring=scoring)
    ours = GDClassifierCV(
        alphas=1.0 / (CS * n_train), cv=folds, scoring=scoring, **TIGHT
    ).fit(X, y)
    # Decreasing alphas are increasing Cs: the layouts are the same.
    np.testing.assert_allclose(ours.alphas_, 1.0 / (CS * n_train))
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-6)
    assert ours.alpha_ == pytest.approx(1.0 / (ref.C_ * n_train), rel=1e-12)
    assert ours.l1_ratio_ == 0.0
    # The refit is at the per-sample alpha_: LogisticRegression's C = 1 / (alpha n).
    final = LogisticRegression(C=1.0 / (ours.alpha_ * len(y)), tol=1e-10)
    final.set_params(max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(
        ours.predict_proba(X), final.predict_proba(X), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(ours.coef_, final.coef_, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_refit_false_averages_the_folds_best(problem):
    X, y = PROBLEMS[problem]()
    folds = _folds(len(y))
    n_train = len(folds[0][0])
    ref = _logistic_cv(X, y, folds, refit=False, scoring="accuracy")
    ours = GDClassifierCV(
        alphas=1.0 / (CS * n_train), cv=folds, refit=False, **TIGHT
    ).fit(X, y)
    # The mean of the folds' best models, as LogisticRegressionCV(refit=False).
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        ours.predict_proba(X), ref.predict_proba(X), rtol=1e-5, atol=1e-7
    )
    best = np.argmax(ref.scores_[:, 0, :], axis=1)
    assert ours.alpha_ == pytest.approx(np.mean(1.0 / (CS[best] * n_train)))
    assert ours.n_iter_ >= 1


@pytest.mark.parametrize("problem", PROBLEMS)
def test_default_grid_starts_where_l1_zeroes_every_coefficient(problem):
    X, y = PROBLEMS[problem]()
    cv = GDClassifierCV(penalty="l1", alphas=4, cv=2).fit(X, y)
    top = cv.alphas_[0]
    assert cv.alphas_[-1] == pytest.approx(top * 1e-4)
    at_top = GDClassifier(penalty="l1", alpha=top, tol=1e-8).fit(X, y)
    below = GDClassifier(penalty="l1", alpha=0.9 * top, tol=1e-8).fit(X, y)
    assert np.all(at_top.coef_ == 0)
    assert np.any(below.coef_ != 0)
    # An L2 grid starts at the same place; an elastic net's at alpha_max / l1_ratio.
    l2 = GDClassifierCV(alphas=4, cv=2).fit(X, y)
    assert l2.alphas_[0] == pytest.approx(top)
    enet = GDClassifierCV(penalty="elasticnet", l1_ratio=[0.5, 1.0], alphas=2, cv=2)
    enet.fit(X, y)
    np.testing.assert_allclose(enet.alphas_[:, 0], [2 * top, top])


def test_elastic_net_searches_the_l1_ratios():
    X, y = _standardized(load_iris)
    cv = GDClassifierCV(
        penalty="elasticnet", l1_ratio=[0.2, 0.8], alphas=4, cv=3, scoring="f1_macro"
    ).fit(X, y)
    assert cv.scores_.shape == (3, 2, 4)
    assert cv.coefs_paths_.shape == (3, 2, 4, 3, 5)
    assert cv.alphas_.shape == (2, 4)
    i = list(cv.l1_ratios_).index(cv.l1_ratio_)
    assert cv.alpha_ in cv.alphas_[i]
    mean = cv.scores_.mean(axis=0)
    assert mean[i, list(cv.alphas_[i]).index(cv.alpha_)] == mean.max()
    with pytest.raises(ValueError, match="l1_ratio must be set"):
        GDClassifierCV(penalty="elasticnet").fit(X, y)


def test_scoring_strings_and_callables():
    X, y = _standardized(load_breast_cancer)
    for scoring in ["roc_auc", "balanced_accuracy", "neg_brier_score"]:
        cv = GDClassifierCV(alphas=3, cv=3, scoring=scoring).fit(X, y)
        assert np.all(np.isfinite(cv.scores_))

    def largest_alpha(estimator, X, y):
        return estimator.alpha

    cv = GDClassifierCV(alphas=3, cv=3, scoring=largest_alpha).fit(X, y)
    assert cv.alpha_ == cv.alphas_[0]
    with pytest.raises(InvalidParameterError, match="scoring"):
        GDClassifierCV(scoring="no_such_score").fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["hinge", "modified_huber"])
def test_other_losses(loss):
    X, y = _standardized(load_iris)
    cv = GDClassifierCV(loss=loss, alphas=3, cv=3, tol=1e-2).fit(X, y)
    assert cv.coef_.shape == (3, 4)
    assert cv.score(X, y) > 0.8
    assert hasattr(cv, "predict_proba") == (loss == "modified_huber")


def test_sparse_equals_dense():
    X, y = _standardized(load_breast_cancer)
    kw = {"alphas": 4, "cv": 3, "tol": 1e-8}
    dense = GDClassifierCV(**kw).fit(X, y)
    sparse = GDClassifierCV(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.scores_, dense.scores_)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        sparse.decision_function(sp.csr_matrix(X)), dense.decision_function(X)
    )


def test_zero_sample_weights_drop_the_rows():
    X, y = _standardized(load_breast_cancer, 300)
    rng = np.random.RandomState(0)
    weight = rng.randint(0, 3, size=len(y)).astype(float)
    kept = np.flatnonzero(weight)
    # The same folds with and without the rows of weight 0.
    position = -np.ones(len(y), dtype=int)
    position[kept] = np.arange(len(kept))
    folds = _folds(len(y))
    kept_folds = [
        (position[tr][weight[tr] > 0], position[te][weight[te] > 0]) for tr, te in folds
    ]
    kw = {"alphas": 4, **TIGHT}
    weighted = GDClassifierCV(cv=folds, **kw).fit(X, y, sample_weight=weight)
    dropped = GDClassifierCV(cv=kept_folds, **kw).fit(
        X[kept], y[kept], sample_weight=weight[kept]
    )
    np.testing.assert_allclose(weighted.scores_, dropped.scores_)
    np.testing.assert_allclose(weighted.alphas_, dropped.alphas_)
    np.testing.assert_allclose(weighted.coef_, dropped.coef_, rtol=1e-6, atol=1e-8)


def test_balanced_class_weight_is_computed_on_all_the_data():
    X, y = _standardized(load_iris, 120)  # 50, 50, 20 samples
    kw = {"alphas": 3, "cv": 3}
    balanced = GDClassifierCV(class_weight="balanced", **kw).fit(X, y)
    weights = {c: len(y) / (3 * np.sum(y == c)) for c in range(3)}
    explicit = GDClassifierCV(class_weight=weights, **kw).fit(X, y)
    np.testing.assert_allclose(balanced.scores_, explicit.scores_)
    np.testing.assert_allclose(balanced.coef_, explicit.coef_)


def test_labels_pickle_pipeline_and_search():
    X, y = make_classification(120, 5, n_informative=3, random_state=0)
    labels = np.array(["no", "yes"])[y]
    pipe = make_pipeline(StandardScaler(), GDClassifierCV(alphas=3, cv=3))
    pipe.fit(X, labels)
    assert set(pipe.predict(X)) <= {"no", "yes"}
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict_proba(X), pipe.predict_proba(X))
    assert cross_val_score(pipe, X, labels, cv=3).mean() > 0.6
    search = GridSearchCV(pipe, {"gdclassifiercv__penalty": ["l1", "l2"]}, cv=3).fit(
        X, labels
    )
    assert search.best_params_["gdclassifiercv__penalty"] in ("l1", "l2")


def test_groups_reach_the_splitter_and_missing_classes_raise():
    from sklearn.model_selection import GroupKFold

    X, y = _standardized(load_iris)
    groups = np.arange(len(y)) % 5
    cv = GDClassifierCV(alphas=3, cv=GroupKFold(5)).fit(X, y, groups=groups)
    assert cv.scores_.shape == (5, 1, 3)
    # Unshuffled folds of sorted iris leave a class out of a training fold.
    with pytest.raises(ValueError, match="training fold holds only the classes"):
        GDClassifierCV(alphas=3, cv=KFold(3)).fit(X, y)


def test_float32_and_not_fitted():
    X, y = _standardized(load_breast_cancer)
    cv = GDClassifierCV(alphas=3, cv=3).fit(X.astype(np.float32), y)
    assert cv.coef_.dtype == np.float32
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GDClassifierCV().predict(X)


def test_l1_grid_fits_quietly_and_chooses_saga_s_c():
    # An L1 grid on standardized breast cancer: no warning at the defaults, and
    # LogisticRegressionCV(solver="saga", L1)'s choice of C on the same folds.
    # saga is loose here (tol=1e-4, for its time): its held-out scores agree to
    # its accuracy, and our refit's objective is at most saga's.
    X, y = _standardized(load_breast_cancer, 567)
    folds = _folds(len(y))
    n, n_train = len(y), len(folds[0][0])
    cs = np.array([0.03, 0.1, 0.3, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = GDClassifierCV(
            penalty="l1", alphas=1.0 / (cs * n_train), cv=folds, scoring="neg_log_loss"
        ).fit(X, y)
    ref = LogisticRegressionCV(
        Cs=cs,
        cv=folds,
        l1_ratios=(1.0,),
        solver="saga",
        use_legacy_attributes=False,
        tol=1e-4,
        max_iter=5000,
        scoring="neg_log_loss",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y)
    assert ours.alpha_ == pytest.approx(1.0 / (ref.C_ * n_train), rel=1e-12)
    np.testing.assert_allclose(ours.scores_, ref.scores_, atol=5e-3)
    assert np.sum(ours.coef_ == 0) > 0  # L1: exact zeros

    def objective(coef, intercept):
        z = X @ coef.ravel() + intercept[0]
        return np.mean(np.logaddexp(0, -np.where(y == 1, z, -z))) + ours.alpha_ * (
            np.abs(coef).sum()
        )

    # saga refits at C_ on all n rows: alpha = 1 / (C_ n), ours at alpha_.
    final = LogisticRegression(
        C=1.0 / (ours.alpha_ * n), l1_ratio=1.0, solver="saga", tol=1e-4
    ).set_params(max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        final.fit(X, y)
    assert (
        objective(ours.coef_, ours.intercept_)
        <= objective(final.coef_, final.intercept_) + 1e-4
    )


@pytest.mark.parametrize(
    ("problem", "penalty"), [("binary", "l2"), ("binary", "l1"), ("multiclass", "l2")]
)
def test_path_fits_are_the_classifier_s_fits(problem, penalty):
    # Each alpha of a fold's path (one objective, warm starts, Newton's Hessian
    # carried from one alpha to the next) is GDClassifier's fit at that alpha:
    # the same probabilities to the fits' accuracy (the multinomial intercepts
    # are defined up to a common shift).
    X, y = PROBLEMS[problem]()
    folds = _folds(len(y))
    kw = {"penalty": penalty, "tol": 1e-10}
    # (Without refit the paths stop at tol itself: their mean is the model.)
    cv = GDClassifierCV(alphas=3, eps=1e-2, cv=folds, refit=False, **kw).fit(X, y)
    for f, (train, _) in enumerate(folds):
        for k, alpha in enumerate(cv.alphas_):
            clf = GDClassifier(alpha=alpha, **kw).fit(X[train], y[train])
            expected = clf.predict_proba(X)
            clf.coef_ = cv.coefs_paths_[f, 0, k, :, :-1]
            clf.intercept_ = cv.coefs_paths_[f, 0, k, :, -1]
            np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-5)
