"""schemathesis, every phase and every check, over MEF 116 Product Inventory and the OAuth
token endpoint: no failure.

See tests/conformance/schemathesis_run.py for the seeded system, the identities and the peers.
One file per document, so `pytest -n auto --dist loadfile` spreads the documents over workers.
"""

from pathlib import Path

from tests.conformance.schemathesis_run import check_documents


def test_schemathesis_mef116(tmp_path: Path) -> None:
    check_documents(tmp_path, ("mef116", "oauth"), least=1100)
