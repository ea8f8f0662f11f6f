"""The app factory builds an app whose health check answers."""

from __future__ import annotations

from review_app import create_app


def test_healthz() -> None:
    client = create_app({"TESTING": True}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert client.get("/nope").status_code == 404
