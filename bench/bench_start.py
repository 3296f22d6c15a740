"""How long a server takes to build its app: `create_app()` in a fresh process (imports,
the OpenAPI documents, connexion's validation of them), then a second app in the same
process, on a temporary data folder.

    PYTHONPATH=<tree> python bench/bench_start.py      # the tree's code, not this file's
"""

from __future__ import annotations

import json
import os
import tempfile
import time


def main() -> None:
    os.environ["PANTHER_DATA_DIR"] = tempfile.mkdtemp()
    t0 = time.perf_counter()
    from panther.server.app import create_app

    t1 = time.perf_counter()
    create_app()
    t2 = time.perf_counter()
    create_app()  # as each test that starts a server in process does
    t3 = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": round(t1 - t0, 2),
                "create_app_s": round(t2 - t1, 2),
                "second_create_app_s": round(t3 - t2, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
