"""Custodial signing keys at rest: Web3 Secret Storage (the keystore format eth-account reads).

Keys are sealed with a password kept in the data folder (or ``PANTHER_KEYSTORE_PASSWORD``);
unsealed keys are cached in memory, since the KDF is deliberately slow.
"""

from __future__ import annotations

import json
import threading

from eth_account import Account

__all__ = ["Keystore"]


class Keystore:
    def __init__(self, password: str, *, iterations: int = 50_000) -> None:
        self._password = password
        self._iterations = iterations
        self._cache: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def seal(self, private_key: bytes) -> bytes:
        sealed = Account.encrypt(
            private_key, self._password, kdf="pbkdf2", iterations=self._iterations
        )
        blob = json.dumps(sealed, sort_keys=True).encode()
        with self._lock:
            self._cache[blob] = private_key
        return blob

    def unseal(self, blob: bytes) -> bytes:
        with self._lock:
            key = self._cache.get(blob)
        if key is None:
            key = bytes(Account.decrypt(json.loads(blob), self._password))
            with self._lock:
                self._cache[blob] = key
        return key
