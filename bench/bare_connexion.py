"""The baseline of bench_lists.py: a bare connexion 3 app whose handlers return a JSON page
held in memory (no database, no authentication), served by uvicorn on 127.0.0.1.

    python bench/bare_connexion.py PORT PAGE.json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import connexion
import orjson
import uvicorn

_PAGE: list[Any] = []

_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "bare", "version": "1"},
    "paths": {
        "/page": {
            "get": {
                "operationId": "bare_connexion.page",
                "parameters": [
                    {"name": "offset", "in": "query", "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {"200": {"description": "a page"}},
            }
        },
        "/one": {
            "get": {
                "operationId": "bare_connexion.one",
                "responses": {"200": {"description": "one item"}},
            }
        },
    },
}


def page(offset: int = 0, limit: int = 100) -> Any:
    return _PAGE[:limit], 200, {"X-Total-Count": "1000000"}


def one() -> Any:
    return _PAGE[0]


def main() -> None:
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    _PAGE.extend(orjson.loads(path.read_bytes()))
    sys.modules["bare_connexion"] = sys.modules[__name__]  # the handlers see this _PAGE
    app = connexion.AsyncApp("bare_connexion")
    app.add_api(_SPEC)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
