"""`panther serve` as a user starts it: a real server process on a free 127.0.0.1 port,
bounded in time and stopped by its pid."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["panther_command", "serve"]


def panther_command() -> list[str]:
    """The installed `panther` command next to this interpreter (or on PATH)."""
    exe = Path(sys.executable).with_name("panther")
    return [str(exe)] if exe.exists() else [shutil.which("panther") or "panther"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(data_dir: Path, *, database_url: str = "", **env_extra: str) -> Iterator[str]:
    """`panther serve` with its own data folder (and ``database_url``, else SQLite there);
    yields its base URL; stopped by its pid afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "PANTHER_DATA_DIR": str(data_dir),
        "PANTHER_LEDGER": "embedded",
        "PANTHER_VALIDATE_RESPONSES": "1",
        "PANTHER_DATABASE_URL": database_url,
        **env_extra,
    }
    log_path = data_dir / "serve.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [*panther_command(), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/panther/v1/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "panther serve did not start: " + log_path.read_text()
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()
