"""Helpers of the API tests: sign up, and read the one error shape."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "a-long-password"


def register(client: TestClient, email: str = "owner@example.com") -> dict[str, str]:
    """Register an account; its owner's Authorization header."""
    response = client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def error_of(response: Any) -> dict[str, Any]:
    """The error of a response, checking it has the one error shape."""
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), body
    return dict(body["error"])
