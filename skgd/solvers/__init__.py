# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Solvers: functions of (objective, start point, options) giving a SolverResult.

Nothing here is public: the solvers take skgd's private objective, and the way in is
the estimators' ``solver`` parameter (and :func:`skgd.gd_path`). The modules are
``_gd`` (``solve_gd``: full-batch accelerated proximal gradient), ``_working_set``
and ``_gram_enet`` (its working-set route), ``_lbfgs`` (``solve_lbfgs``: L-BFGS for
smooth losses with no penalty or an L2 penalty, not yet chosen by the estimators),
``_minibatch`` (``solve_minibatch``: the stochastic solvers) and ``_result``
(``SolverResult`` and the shared warnings).
"""

__all__ = []
