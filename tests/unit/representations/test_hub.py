"""Hub listeners: the registration body, the listener view and the event body."""

from __future__ import annotations

import pytest

from panther.server.representations.hub import hub_event, listener_view, parse_listener
from panther.server.services.errors import InvalidInput


def test_listener_view_shows_the_query_only_when_given() -> None:
    row = {"id": "hub-1", "callback": "https://c.example/hooks", "query": None, "api": "x"}
    assert listener_view(row) == {"id": "hub-1", "callback": "https://c.example/hooks"}
    row["query"] = "eventType=ProductCreateEvent"
    assert listener_view(row) == {
        "id": "hub-1",
        "callback": "https://c.example/hooks",
        "query": "eventType=ProductCreateEvent",
    }


def test_parse_listener_keeps_callback_and_query_as_text() -> None:
    wanted = parse_listener({"callback": "http://c.example/h", "query": 5})
    assert (wanted.callback, wanted.query) == ("http://c.example/h", "5")
    assert parse_listener({"callback": "https://c.example/h"}).query is None


@pytest.mark.parametrize(("invalid_status", "status"), [(None, 422), (400, 400)])
def test_a_callback_that_is_not_http_is_refused(invalid_status: int | None, status: int) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_listener({"callback": "ftp://nowhere"}, invalid_status=invalid_status)
    assert info.value.status == status
    assert info.value.details[0]["pointer"] == "/callback"


def test_hub_event_wraps_the_event_and_adds_extra_fields() -> None:
    body = hub_event("e1", "2026-11-01T00:00:00Z", "X", {"a": 1}, fieldPath="note")
    assert body == {
        "eventId": "e1",
        "eventTime": "2026-11-01T00:00:00Z",
        "eventType": "X",
        "event": {"a": 1},
        "fieldPath": "note",
    }
