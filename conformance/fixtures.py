"""Pytest fixture giving tests the official specifications, or skipping them when absent.

``PANTHER_REQUIRE_STANDARDS=1`` (CI) turns the skip into a failure, so a missing standards
folder can never make the conformance suite silently green.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance.official import standards_dir

__all__ = ["official_schemas", "require_standards"]

_REQUIRE_ENV = "PANTHER_REQUIRE_STANDARDS"


def require_standards() -> Path:
    """The standards folder; skips the calling test (or fails it under CI) when absent."""
    root = standards_dir()
    if root is not None:
        return root
    message = (
        "official API specifications not found: set PANTHER_STANDARDS_DIR to the folder "
        "holding tmf/ and mef-sonata-grace/ (default <repo root>/../shared/standards)"
    )
    if os.environ.get(_REQUIRE_ENV) == "1":
        pytest.fail(f"{message}; {_REQUIRE_ENV}=1 requires them", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def official_schemas() -> Path:
    """The standards folder the ``conformance.official`` validators read."""
    return require_standards()
