# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The command line, ``python -m skgd``."""

import pytest

from skgd.__main__ import main


def test_main_help_is_plain_text(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "python -m skgd demo" in out
    assert "`" not in out
