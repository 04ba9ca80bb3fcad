# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The choice of the form a problem is solved in: the sample form or the Gram form.

:func:`choose_form` is the one rule; :func:`in_form` converts an objective to the
form chosen. The plain full-batch solver, the working sets and the regularization
path all ask it (each with its ``purpose``), so the decision is written once.
"""

from skgd._gram import gram_form

# Beyond this many features the Gram matrix (n_features**2 numbers) stops being small
# next to the caches and to X; the sample form is used instead.
GRAM_MAX_FEATURES = 4096
# With the squared loss and working sets, the Gram matrix of all the features (built
# once, then every check is free of X) beats passes over X up to this many features
# in a single fit; beyond, building it costs more than the handful of passes of the
# working sets.
WORKING_SET_GRAM_MAX_FEATURES = 256
# The Gram matrix costs about n_features / 50 passes over X (measured: ~40 at 2,000
# features); a single fit with working sets about 3 passes per alpha. A path that
# amortises the Gram matrix over at least n_features / 150 alphas solves in its form.
PATH_FEATURES_PER_SOLVE = 150


def gram_applies(objective):
    """Return whether ``objective`` has a Gram form worth building at all.

    The Gram form applies to the squared loss (any penalty) on a backend that can
    build ``G`` (dense arrays), with at least as many rows as columns and at most
    :data:`GRAM_MAX_FEATURES` columns.

    Parameters
    ----------
    objective : ObjectiveForm
        The problem, in the sample form.

    Returns
    -------
    applies : bool
        Whether the Gram form can be built and is small.
    """
    n_samples, n_features = objective.n_samples, objective.n_features
    return (
        objective.loss.is_quadratic
        and hasattr(objective.backend, "weighted_gram")
        and 0 < n_features <= GRAM_MAX_FEATURES
        and n_samples >= n_features
    )


def choose_form(objective, purpose="fit", n_solves=1):
    """Return the form to solve ``objective`` in: ``"gram"`` or ``"samples"``.

    The rule, with its reasons:

    1. An objective already in the Gram form stays there (its matrix is paid for).
    2. Where the Gram form does not apply (:func:`gram_applies`: another loss, a
       backend without ``weighted_gram``, more columns than rows, or more than
       :data:`GRAM_MAX_FEATURES`), the sample form.
    3. Otherwise, by ``purpose``:

       - ``"fit"`` (the plain full-batch solver on all the features): the Gram
         form. Building ``G`` costs about ``n_features / 2`` passes of arithmetic,
         but at level-3 BLAS speed, i.e. a few passes of memory-bound time for a
         hundred features; every iteration then costs ``n_features**2`` instead of
         ``2 * n_samples * n_features``.
       - ``"working_set"`` (a single fit with an L1 part): the Gram form up to
         :data:`WORKING_SET_GRAM_MAX_FEATURES` features, where building all of
         ``G`` costs less than the few passes over X of the working sets' checks.
       - ``"path"`` (``n_solves`` fits over one X): the Gram form when
         ``n_features < PATH_FEATURES_PER_SOLVE * n_solves``, where ``G`` is
         amortised over enough solves.

    Parameters
    ----------
    objective : ObjectiveForm
        The problem.
    purpose : {"fit", "working_set", "path"}, default="fit"
        What the form is for (see above).
    n_solves : int, default=1
        The number of solves that share the form (the alphas of a path).

    Returns
    -------
    form : {"gram", "samples"}
        The form.
    """
    if objective.form == "gram":
        return "gram"
    if not gram_applies(objective):
        return "samples"
    n_features = objective.n_features
    if purpose == "working_set":
        pays = n_features <= WORKING_SET_GRAM_MAX_FEATURES
    elif purpose == "path":
        pays = n_features < PATH_FEATURES_PER_SOLVE * n_solves
    else:
        pays = True
    return "gram" if pays else "samples"


def in_form(objective, form):
    """Return ``objective`` in the form ``form`` (converting a sample form to Gram).

    Parameters
    ----------
    objective : ObjectiveForm
        The problem.
    form : {"gram", "samples"}
        From :func:`choose_form`.

    Returns
    -------
    objective : ObjectiveForm
        The same problem in ``form``.
    """
    if form == objective.form:
        return objective
    if form != "gram":
        raise ValueError(f"Cannot convert a {objective.form} form to {form}.")
    return gram_form(objective)


def planned(objective, purpose="fit", n_solves=1):
    """Return ``objective`` in the form :func:`choose_form` chooses.

    Parameters
    ----------
    objective : ObjectiveForm
        The problem.
    purpose : {"fit", "working_set", "path"}, default="fit"
        What the form is for.
    n_solves : int, default=1
        The number of solves that share the form.

    Returns
    -------
    objective : ObjectiveForm
        The same problem in the chosen form.
    """
    return in_form(objective, choose_form(objective, purpose, n_solves))
