"""The official-schema validators: loading, OpenAPI dialect, error reporting, skipping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import ValidationError

from conformance.fixtures import require_standards
from conformance.official import (
    MEF116_V7,
    TMF637_V4,
    StandardsNotFound,
    UnknownSchema,
    standards_dir,
    validate_against,
    validate_mef116_error,
    validate_mef116_product,
    validate_tmf637_product,
    validate_tmf_error,
)

# A small OpenAPI 3 document exercising the dialect features the official files use.
DIALECT = {
    "openapi": "3.0.1",
    "info": {"title": "t", "version": "1"},
    "paths": {},
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "required": ["when"],
                "properties": {
                    "when": {"type": "string", "format": "date-time"},
                    "note": {"type": "string", "nullable": True},
                    "owner": {"$ref": "#/components/schemas/Ref", "nullable": True},
                    "config": {"$ref": "#/components/schemas/Config"},
                    "state": {"type": "string", "enum": ["open ", "closed"]},
                    "count": {"type": "integer"},
                },
            },
            "Ref": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
            "Config": {
                "type": "object",
                "required": ["@type"],
                "discriminator": {"propertyName": "@type"},
                "properties": {"@type": {"type": "string"}},
            },
            "FancyConfig": {
                "allOf": [
                    {"$ref": "#/components/schemas/Config"},
                    {"type": "object", "required": ["colour"]},
                ]
            },
        }
    },
}


@pytest.fixture
def dialect_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "dialect.json").write_text(json.dumps(DIALECT))
    monkeypatch.setenv("PANTHER_STANDARDS_DIR", str(tmp_path))
    return tmp_path


def test_standards_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANTHER_STANDARDS_DIR", str(tmp_path))
    assert standards_dir() == tmp_path
    monkeypatch.setenv("PANTHER_STANDARDS_DIR", str(tmp_path / "absent"))
    assert standards_dir() is None
    with pytest.raises(StandardsNotFound):
        validate_tmf637_product({"id": "x"})


def test_nullable_means_null_or_the_schema(dialect_dir: Path) -> None:
    validate_against("dialect.json", "Thing", {"when": "2024-01-01T00:00:00Z", "note": None})
    validate_against("dialect.json", "Thing", {"when": "2024-01-01T00:00:00Z", "owner": None})
    with pytest.raises(ValidationError, match=r"\$\.owner"):
        validate_against("dialect.json", "Thing", {"when": "2024-01-01T00:00:00Z", "owner": {}})


def test_date_time_is_checked_strictly(dialect_dir: Path) -> None:
    validate_against("dialect.json", "Thing", {"when": "2024-01-01T10:00:00.5+02:00"})
    for bad in ["2024-01-01", "2024-01-01T10:00:00", "2024-13-01T00:00:00Z", "yesterday"]:
        with pytest.raises(ValidationError, match="date-time"):
            validate_against("dialect.json", "Thing", {"when": bad})


def test_enum_values_lose_stray_blanks(dialect_dir: Path) -> None:
    validate_against("dialect.json", "Thing", {"when": "2024-01-01T00:00:00Z", "state": "open"})
    with pytest.raises(ValidationError):
        validate_against(
            "dialect.json", "Thing", {"when": "2024-01-01T00:00:00Z", "state": "open "}
        )


def test_discriminator_dispatches_to_a_known_subclass_only(dialect_dir: Path) -> None:
    when = "2024-01-01T00:00:00Z"
    validate_against("dialect.json", "Thing", {"when": when, "config": {"@type": "Elsewhere"}})
    validate_against(
        "dialect.json", "Thing", {"when": when, "config": {"@type": "FancyConfig", "colour": "red"}}
    )
    with pytest.raises(ValidationError, match="'colour' is a required property"):
        validate_against(
            "dialect.json", "Thing", {"when": when, "config": {"@type": "FancyConfig"}}
        )
    # the subclass names itself through its base: dispatch must not loop
    validate_against("dialect.json", "FancyConfig", {"@type": "FancyConfig", "colour": "red"})


def test_errors_name_schema_file_and_every_location(dialect_dir: Path) -> None:
    bad = {"note": 1, "owner": {"id": 2}, "state": "x", "config": {}, "count": "x"}
    with pytest.raises(ValidationError) as caught:
        validate_against("dialect.json", "Thing", bad)
    message = caught.value.message
    assert message.startswith("not a valid Thing (dialect.json):")
    for location in ["$: 'when'", "$.config: '@type'", "$.count", "$.note", "$.owner.id: 2"]:
        assert location in message
    assert "... and" in message  # six errors, five reported


def test_unknown_schema_is_its_own_error(dialect_dir: Path) -> None:
    with pytest.raises(UnknownSchema) as caught:
        validate_against("dialect.json", "Nothing", {})
    assert (caught.value.spec_file, caught.value.schema_name) == ("dialect.json", "Nothing")


def test_missing_standards_skip_or_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTHER_STANDARDS_DIR", str(tmp_path / "absent"))
    monkeypatch.delenv("PANTHER_REQUIRE_STANDARDS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PANTHER_STANDARDS_DIR"):
        require_standards()
    monkeypatch.setenv("PANTHER_REQUIRE_STANDARDS", "1")
    with pytest.raises(pytest.fail.Exception, match="PANTHER_REQUIRE_STANDARDS=1"):
        require_standards()


# ---------------------------------------------------------------- the real files


@pytest.mark.usefixtures("official_schemas")
def test_official_tmf637_product_rules() -> None:
    validate_tmf637_product({"id": "p", "status": "aborted"})
    with pytest.raises(ValidationError, match="@referredType"):
        validate_tmf637_product({"id": "p", "relatedParty": [{"id": "carrier-b"}]})
    validate_tmf_error({"code": "notFound", "reason": "no such product"})
    with pytest.raises(ValidationError, match="'reason' is a required property"):
        validate_tmf_error({"code": "notFound"})


@pytest.mark.usefixtures("official_schemas")
def test_official_mef116_product_rules() -> None:
    minimal = {"id": "p", "status": "active", "startDate": "2024-01-01T00:00:00Z"}
    validate_mef116_product(minimal)
    for missing in minimal:
        with pytest.raises(ValidationError, match=f"'{missing}' is a required property"):
            validate_mef116_product({k: v for k, v in minimal.items() if k != missing})
    with pytest.raises(ValidationError, match="is not one of"):
        validate_mef116_product({**minimal, "status": "created"})


@pytest.mark.usefixtures("official_schemas")
def test_official_mef116_errors() -> None:
    validate_mef116_error(404, {"code": "notFound", "reason": "no such product"})
    validate_mef116_error(422, [{"code": "invalidValue", "reason": "bad", "propertyPath": "/x"}])
    with pytest.raises(ValidationError, match="array of Error422"):
        validate_mef116_error(422, {"code": "invalidValue", "reason": "bad"})
    with pytest.raises(ValidationError):
        validate_mef116_error(400, {"code": "notFound", "reason": "wrong code for 400"})


def test_spec_file_constants_name_real_files(official_schemas: Path) -> None:
    assert (official_schemas / TMF637_V4).is_file()
    assert (official_schemas / MEF116_V7).is_file()
