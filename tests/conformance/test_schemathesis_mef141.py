"""schemathesis, every phase and every check, over MEF 141 Customer Bill: no failure.

See tests/conformance/schemathesis_run.py for the seeded system, the identities and the peers.
One file per document, so `pytest -n auto --dist loadfile` spreads the documents over workers.
"""

from pathlib import Path

from tests.conformance.schemathesis_run import check_documents


def test_schemathesis_mef141(tmp_path: Path) -> None:
    check_documents(tmp_path, ("mef141",), least=750)
