"""Start-up with the database away: a bounded wait with one line per retry, then either the
server (once the database answers) or one line saying what is wrong, never a traceback."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.served import free_port, panther_command

PG_URL = os.environ.get("PANTHER_TEST_DATABASE_URL", "")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTHER_")}
    return {**env, **extra}


def test_an_unreachable_database_is_one_line_after_a_bounded_wait(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    proc = subprocess.run(
        [
            *panther_command(),
            "serve",
            "--data-dir",
            str(tmp_path),
            "--database-url",
            f"postgresql+psycopg://root@127.0.0.1:{port}/test",
            "--port",
            str(free_port()),
        ],
        env=_env(PANTHER_DATABASE_WAIT="2"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    retries = [line for line in lines if "retrying in" in line]
    assert retries and all(f"127.0.0.1:{port}/test is not reachable" in r for r in retries)
    assert lines[-1].startswith(
        f"Error: the database cannot be used: PostgreSQL at 127.0.0.1:{port}/test "
        "is not reachable after 2 s: "
    )
    assert "Connection refused" in lines[-1]
    assert "Stone Panther on" not in proc.stdout
    # the wait is bounded: 2 s of retries plus the start of the interpreter
    assert time.monotonic() - started < 90


@contextmanager
def _late_forwarder(target: tuple[str, int], after: float) -> Iterator[int]:
    """A TCP port on 127.0.0.1 forwarding to ``target`` that hangs up on every connection
    until ``after`` seconds past the first one: a database that comes up late."""
    port = free_port()
    stop = threading.Event()
    ready = socket.create_server(("127.0.0.1", port))
    ready.settimeout(0.2)

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            src.close()  # each socket is the source of exactly one pump

    def serve() -> None:
        first: float | None = None
        while not stop.is_set():
            try:
                client, _ = ready.accept()
            except TimeoutError:
                continue
            first = first or time.monotonic()
            if time.monotonic() - first < after:
                client.close()  # not up yet
                continue
            upstream = socket.create_connection(target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(5)
        ready.close()


@pytest.mark.postgres
def test_the_server_starts_once_a_late_database_answers(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("needs PANTHER_TEST_DATABASE_URL")
    url = sa.make_url(PG_URL)
    schema = f"t_{secrets.token_hex(6)}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    api_port = free_port()
    proc: subprocess.Popen[str] | None = None
    try:
        with _late_forwarder((url.host or "127.0.0.1", url.port or 5432), after=2.0) as port:
            late = url.set(
                host="127.0.0.1", port=port, query={"options": f"-csearch_path={schema}"}
            )
            proc = subprocess.Popen(
                [
                    *panther_command(),
                    "serve",
                    "--data-dir",
                    str(tmp_path),
                    "--database-url",
                    late.render_as_string(hide_password=False),
                    "--port",
                    str(api_port),
                ],
                env=_env(PANTHER_DATABASE_WAIT="60"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 120
            answer = None
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    answer = httpx.get(
                        f"http://127.0.0.1:{api_port}/panther/v1/openapi.json", timeout=2
                    )
                    break
                except httpx.TransportError:
                    time.sleep(0.5)
            assert answer is not None, proc.poll()
            assert answer.status_code == 200 and answer.json()["info"]["title"]
    finally:
        if proc is not None:
            proc.terminate()
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            assert "retrying in" in err  # it did wait for the database, a line per retry
            assert "Traceback" not in err
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
