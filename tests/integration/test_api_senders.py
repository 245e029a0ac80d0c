"""/api/senders in-process against moto, with the session host applying the control commands
(simulated driver that shows a QR code before it links)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from session_host.__main__ import simulated_drivers
from session_host.drivers.simulated import SimulatedConfig
from session_host.host import SessionHost
from tests.integration.services import Services
from tests.integration.test_api_auth_messages import error_of, register
from tests.integration.test_session_host import wait_until


def test_link_a_sender_with_a_qr_code_then_log_it_out(client: TestClient, services: Services) -> None:
    headers = register(client)
    body = {"phone": "98000 00001", "display_name": "Shop", "drivers": ["simulated"], "pacing": {"preset": "safe"}}
    created = client.post("/api/senders", json=body, headers=headers)
    assert created.status_code == 201, created.text
    sender = created.json()
    assert sender["phone"] == "+919800000001" and sender["status"]["state"] == "new"
    host = SessionHost(
        services.host, simulated_drivers(SimulatedConfig(auto_link=False, link_after_s=1.0)), wait_seconds=1
    )
    host.start()
    try:
        assert client.post(f"/api/senders/{sender['id']}/link", headers=headers).status_code == 202
        assert wait_until(lambda: client.get(f"/api/senders/{sender['id']}/qr", headers=headers).status_code == 200)
        png = client.get(f"/api/senders/{sender['id']}/qr.png", headers=headers)
        svg = client.get(f"/api/senders/{sender['id']}/qr.svg", headers=headers)
        assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
        assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
        assert wait_until(
            lambda: client.get(f"/api/senders/{sender['id']}/status", headers=headers).json()["state"] == "connected"
        )
        status = client.get(f"/api/senders/{sender['id']}/status", headers=headers).json()
        assert status["drivers"]["simulated"]["state"] == "connected" and status["qr_available"] is False
        assert client.get(f"/api/senders/{sender['id']}/qr", headers=headers).status_code == 404  # linked: no QR
        assert client.post(f"/api/senders/{sender['id']}/logout", headers=headers).status_code == 202
        assert wait_until(
            lambda: client.get(f"/api/senders/{sender['id']}/status", headers=headers).json()["state"] == "logged_out"
        )
    finally:
        host.stop()


def test_senders_are_scoped_to_the_account_and_validated(client: TestClient) -> None:
    alice, bob = register(client, "alice@example.com"), register(client, "bob@example.com")
    sender = client.post("/api/senders", json={"phone": "+919800000002", "drivers": ["neonize"]}, headers=alice).json()
    assert client.get(f"/api/senders/{sender['id']}", headers=bob).status_code == 404
    assert client.post(f"/api/senders/{sender['id']}/link", headers=bob).status_code == 404
    assert client.delete(f"/api/senders/{sender['id']}", headers=bob).status_code == 404
    ids = [s["id"] for s in client.get("/api/senders", headers=alice).json()]
    assert sender["id"] in ids and sender["id"] not in [s["id"] for s in client.get("/api/senders", headers=bob).json()]
    unknown = client.post("/api/senders", json={"phone": "+919800000003", "drivers": ["baileys"]}, headers=alice)
    assert unknown.status_code == 422 and error_of(unknown)["details"][0]["field"] == "drivers"
    again = client.post("/api/senders", json={"phone": "+919800000002"}, headers=alice)
    assert again.status_code == 409
    patched = client.patch(f"/api/senders/{sender['id']}", json={"display_name": "Main"}, headers=alice).json()
    assert patched["display_name"] == "Main" and patched["drivers"] == ["neonize"]
    assert client.delete(f"/api/senders/{sender['id']}", headers=alice).status_code == 204
    assert client.get(f"/api/senders/{sender['id']}", headers=alice).status_code == 404
