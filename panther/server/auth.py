"""Bearer tokens for connexion's security layer (MEF W128.1: OAuth2 client credentials, JWT)."""

from __future__ import annotations

from typing import Any

from . import state
from .services.errors import Unauthorized
from .services.parties import read_token

__all__ = ["token_info", "validate_scope"]


def token_info(token: str) -> dict[str, Any] | None:
    try:
        caller = read_token(state.ports(), token)
    except Unauthorized:
        return None
    return {"sub": caller.party_id, "scope": sorted(caller.scopes), "caller": caller}


def validate_scope(required_scopes: list[str], token_scopes: list[str]) -> bool:
    return set(required_scopes).issubset(set(token_scopes))
