# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Solvers: functions of (objective, start point, options) giving a SolverResult."""

from skgd.solvers._gd import solve_gd
from skgd.solvers._minibatch import solve_minibatch
from skgd.solvers._result import SolverResult

__all__ = ["SolverResult", "solve_gd", "solve_minibatch"]
