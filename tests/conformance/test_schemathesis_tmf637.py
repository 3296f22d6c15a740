"""schemathesis, every phase and every check, over TMF637 Product Inventory: no failure.

See tests/conformance/schemathesis_run.py for the seeded system, the identities and the peers.
One file per document, so `pytest -n auto --dist loadfile` spreads the documents over workers.
"""

from pathlib import Path

from tests.conformance.schemathesis_run import check_documents


def test_schemathesis_tmf637(tmp_path: Path) -> None:
    check_documents(tmp_path, ("tmf637",), least=650)
