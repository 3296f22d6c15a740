"""The billing package exports exactly what we mean it to, and stays plain domain code."""

from __future__ import annotations

import subprocess
import sys

import panther.settlement as billing


def test_all_names_exist() -> None:
    for name in billing.__all__:
        assert hasattr(billing, name), name
    public = {n for n in dir(billing) if not n.startswith("_")}
    # `invoice` is imported on its own (it loads fpdf2); other tests may have imported it
    modules = {"errors", "invoice", "money", "periods", "statement", "terms"}
    assert public - modules == set(billing.__all__)


def test_domain_imports_no_frameworks_and_no_pdf() -> None:
    code = (
        "import sys, panther.settlement;"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy','sqlmodel','connexion','starlette','psycopg','fpdf','PIL')"
        " or m.startswith(('panther.server','panther.adapters','panther.matching'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_invoice_needs_no_framework_either() -> None:
    code = (
        "import sys, panther.settlement.invoice;"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy','sqlmodel','connexion','starlette','psycopg')"
        " or m.startswith(('panther.server','panther.adapters'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
