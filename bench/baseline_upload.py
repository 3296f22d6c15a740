"""The plain way to ingest an NDJSON report, for comparison: per line json.loads, per record
jsonschema validation and RFC 8785 canonicalisation (the pure-Python reference), and one ORM
object per row."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import rfc8785
import yaml
from sqlalchemy import Column, Integer, String, Text, create_engine
from sqlalchemy.orm import Session, declarative_base

from panther.server.app import OPENAPI_DIR

Base = declarative_base()


class Row(Base):  # type: ignore[misc,valid-type]
    __tablename__ = "record"
    seq = Column(Integer, primary_key=True)
    product_id = Column(String(256))
    status = Column(String(64))
    body = Column(Text)


def _product_schema() -> dict[str, Any]:
    doc = yaml.safe_load((OPENAPI_DIR / "panther-v1.yaml").read_text())
    schema = dict(doc["components"]["schemas"]["ProductRecord"])
    # OpenAPI 3.0's nullable is not JSON Schema: say it the JSON Schema way
    props = {}
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        if prop.pop("nullable", False):
            prop["type"] = [prop["type"], "null"]
        props[name] = prop
    return {**schema, "properties": props}


def baseline_upload(body: bytes, url: str) -> int:
    validator = jsonschema.Draft7Validator(_product_schema())
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for seq, line in enumerate(body.decode().splitlines()):
            if not line.strip():
                continue
            record = json.loads(line)
            errors = list(validator.iter_errors(record))
            if errors:
                raise ValueError(f"line {seq + 1}: {errors[0].message}")
            session.add(
                Row(
                    seq=seq,
                    product_id=record["id"],
                    status=record["status"],
                    body=rfc8785.dumps(record).decode(),
                )
            )
        session.commit()
        count = session.query(Row).count()
    engine.dispose()
    return count
