"""Handlers of TMF637 Product Inventory v4: the caller's own current inventory."""

from __future__ import annotations

import asyncio
from typing import Any

from connexion import request

from .. import state as st
from ..services import products
from .common import listing, one

_FILTERS = ("id", "status", "externalId", "name", "productOffering.id", "relatedParty.id")


def listProduct(token_info: dict[str, Any], **_: Any) -> Any:
    q = request.query_params
    filters = {name: q[name] for name in _FILTERS if name in q}
    offset, limit = int(q.get("offset", 0)), int(q.get("limit", 100))
    return listing(
        *products.list_tmf_products(
            st.ports(),
            st.caller(token_info),
            filters=filters,
            fields=q.get("fields"),
            offset=offset,
            limit=limit,
        )
    )


def retrieveProduct(token_info: dict[str, Any], id_: str, fields: str | None = None) -> Any:
    return one(products.get_tmf_product(st.ports(), st.caller(token_info), id_, fields))


async def createProduct(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    view, _ = await asyncio.to_thread(
        products.create_product, st.ports(), st.caller(token_info), body
    )
    return one(view, 201)


async def patchProduct(token_info: dict[str, Any], id_: str, body: dict[str, Any]) -> Any:
    view, _ = await asyncio.to_thread(
        products.patch_product, st.ports(), st.caller(token_info), id_, body
    )
    return one(view)


async def deleteProduct(token_info: dict[str, Any], id_: str) -> Any:
    await asyncio.to_thread(products.delete_product, st.ports(), st.caller(token_info), id_)
    return None, 204


def registerListener(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    return one(products.register_listener(st.ports(), st.caller(token_info), body), 201)


def unregisterListener(token_info: dict[str, Any], id_: str) -> Any:
    products.unregister_listener(st.ports(), st.caller(token_info), id_)
    return None, 204
