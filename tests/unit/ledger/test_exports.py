"""The ledger package exports exactly what we mean it to, and imports no I/O framework."""

from __future__ import annotations

import subprocess
import sys

import panther.ledger as ledger


def test_all_names_exist() -> None:
    for name in ledger.__all__:
        assert hasattr(ledger, name), name
    public = {n for n in dir(ledger) if not n.startswith("_")}
    modules = {
        "canonical",
        "eip712",
        "errors",
        "memory",
        "merkle",
        "policy",
        "port",
        "transactions",
        "verify",
        "testing",
        "proofs",
    }
    assert public - modules == set(ledger.__all__)


def test_domain_imports_no_frameworks() -> None:
    code = (
        "import sys, panther.ledger, panther.ledger.testing;"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy','sqlmodel','connexion','starlette','psycopg')"
        " or m.startswith(('panther.server','panther.adapters'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
