#!/usr/bin/env bash
# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the HTML documentation, warnings as errors, running every gallery example.
# Usage: docs/build.sh [extra sphinx options]   (from any directory)
# Needs the extra "docs": pip install -e ".[docs]"
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg
exec python -m sphinx -W --keep-going -b html "$@" docs docs/_build/html
