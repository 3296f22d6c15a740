"""A local anvil node (npm package @foundry-rs/anvil, pinned in package.json) for tests, the
demo and benchmarks: free port on 127.0.0.1, zero gas price, stopped by its pid."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

__all__ = ["ANVIL_CHAIN_ID", "Anvil", "anvil_binary"]

ROOT = Path(__file__).resolve().parents[3]
ANVIL_CHAIN_ID = 31337


def anvil_binary() -> Path:
    """The anvil executable: $PANTHER_ANVIL, the project's node_modules, or PATH."""
    env = os.environ.get("PANTHER_ANVIL")
    candidates = [Path(env)] if env else []
    # The platform package (anvil-linux-amd64, anvil-linux-arm64, ...) carries the binary.
    candidates += sorted((ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil"))
    found = shutil.which("anvil")
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.exists():
            return path
    raise FileNotFoundError("anvil not found: run `npm ci` in the project folder")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Anvil:
    """One anvil process. `start()` waits until it answers eth_chainId; `stop()` sends
    SIGTERM to its pid (anvil then writes `state` if one was given) and waits."""

    def __init__(
        self,
        *,
        port: int | None = None,
        block_time: float | None = None,
        state: Path | None = None,
        chain_id: int = ANVIL_CHAIN_ID,
        gas_limit: int | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self.port = port or _free_port()
        self.block_time = block_time
        self.state = state
        self.chain_id = chain_id
        self.gas_limit = gas_limit
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--gas-price", "0",
            "--block-base-fee-per-gas", "0",
            "--silent",
        ]  # fmt: skip
        if self.block_time is not None:
            cmd += ["--block-time", str(self.block_time)]
        if self.state is not None:
            cmd += ["--state", str(self.state), "--preserve-historical-states"]
        if self.gas_limit is not None:
            cmd += ["--gas-limit", str(self.gas_limit)]
        return cmd

    def start(self) -> Anvil:
        if self.process is not None and self.process.poll() is None:
            return self
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"anvil exited with {self.process.returncode}: {err}")
            try:
                answer = httpx.post(
                    self.url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                    timeout=1.0,
                )
                if answer.status_code == 200 and "result" in answer.json():
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"anvil did not answer on {self.url} within {self.startup_timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            self.process = None
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()
        self.process = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
