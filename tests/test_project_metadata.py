# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""What a newcomer reads before fitting: the package metadata, the install page,
``help()`` and the notebook repr's link to the documentation."""

import pathlib
import pydoc
import re

import pytest

import skgd
from skgd._sklearn_compat import DOCS_URL

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = pathlib.Path(__file__).resolve().parents[1]
ESTIMATORS = [skgd.GDRegressor, skgd.GDClassifier, skgd.GDRegressorCV]
ESTIMATORS += [skgd.GDClassifierCV]


@pytest.fixture(scope="module")
def project():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def test_project_urls_and_the_repr_link(project):
    urls = project["urls"]
    assert set(urls) >= {"Homepage", "Documentation", "Source"}
    assert urls["Documentation"] == DOCS_URL
    for est in ESTIMATORS:
        link = f"{DOCS_URL}generated/skgd.{est.__name__}.html"
        assert est()._get_doc_link() == link
        assert f'href="{link}"' in est()._repr_html_()


def test_install_page_lists_every_extra_and_package(project):
    page = (ROOT / "docs" / "install.rst").read_text()
    for extra, requirements in project["optional-dependencies"].items():
        assert f"``{extra}``" in page
        for requirement in requirements:
            name = re.match(r"[A-Za-z0-9_.\-\[\]]+", requirement).group()
            assert f"``{name}``" in page, (extra, name)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: e.__name__)
def test_help_is_not_shifted(est):
    # pydoc dedents the docstring by its least indented line: a continued line
    # at column 0 would shift the whole body right.
    text = pydoc.render_doc(est, renderer=pydoc.plaintext)
    lines = [line for line in text.splitlines() if line.startswith(" |  ")]
    summary = est.__doc__.strip().splitlines()[0]
    assert f" |  {summary}" in lines
    assert " |  Parameters" in lines
