"""`make run DRIVER=neonize` (`python -m local --driver neonize`): the local stack with the real WhatsApp
drivers, so a user can link their own phone.

- the session host runs `python -m session_host --driver neonize` (neonize primary), and new accounts get
  no simulated sender (the API keeps the template's WACAST_DEFAULT_DRIVER);
- the whatsapp-web.js sidecar runs as the task's webjs container when Chromium is installed
  (/usr/bin/chromium, or `chromium` on PATH) and the sidecar's npm packages are (`make webjs-install`);
  otherwise the fallback is off, and `plan().fallback` says why;
- the table and the secrets are kept across restarts (local/persist.py), the session stores are on disk
  under .local-state/<stack>/sessions, so a linked phone stays linked;
- QR codes and pairing codes print in the terminal (local/qr_terminal.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from local.sidecar import WEBJS_MAIN, WebjsSidecar
from local.template import ROOT

CHROMIUM = "/usr/bin/chromium"
WEBJS_PACKAGE = "session_host/webjs/node_modules/whatsapp-web.js/package.json"
#: neonize primary, the sidecar (when its secret is set, as the template does) as the fallback; a short
#: long poll so Ctrl-C stops the host within seconds.
HOST_ARGS = ("--driver", "neonize", "--wait-seconds", "2")


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium(
    executable: Callable[[str], bool] = _executable, which: Callable[[str], str | None] = shutil.which
) -> str | None:
    """Debian's chromium, where the sidecar's image has it, else a `chromium` on PATH, else None."""
    if executable(CHROMIUM):
        return CHROMIUM
    return which("chromium")


def webjs_installed(root: Path = ROOT) -> bool:
    return (root / WEBJS_PACKAGE).is_file()


@dataclass(frozen=True)
class RealPhone:
    """What `--driver neonize` runs: the host's arguments, the sidecar (None: the fallback is off), and a
    line saying which, and why."""

    fallback: str
    webjs: WebjsSidecar | None = None
    host_args: list[str] = field(default_factory=lambda: list(HOST_ARGS))

    @property
    def drivers(self) -> list[str]:
        """The drivers a new sender should enable here."""
        return ["neonize", "webjs"] if self.webjs else ["neonize"]


def plan(chromium: str | None, node: str | None, installed: bool) -> RealPhone:
    """Decide on the fallback from what this machine has."""
    off = "whatsapp-web.js fallback: OFF, "
    if chromium is None:
        return RealPhone(
            off + f"Chromium is not installed ({CHROMIUM}, or chromium on PATH). Neonize alone links and sends; "
            "for the fallback install Chromium (sudo apt-get install chromium) and restart."
        )
    if node is None:
        return RealPhone(off + "node is not on PATH (the sidecar is a Node program; Node 20+).")
    if not installed:
        return RealPhone(off + "its npm packages are not installed (make webjs-install).")
    return RealPhone(
        f"whatsapp-web.js fallback: on (sidecar on 127.0.0.1:3001 driving {chromium})",
        WebjsSidecar(chromium=chromium, command=(node, WEBJS_MAIN)),
    )


def detect() -> RealPhone:
    return plan(find_chromium(), shutil.which("node"), webjs_installed())


def howto(api: str, phone: RealPhone) -> str:
    """The steps to link a phone, as curl lines against this stack's API."""
    json_of = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{}\"])'"
    drivers = ",".join(f'"{d}"' for d in phone.drivers)
    then_webjs = (
        '\n     once connected, link the fallback the same way, with {"driver":"webjs"} (a linked device of its own)'
        if phone.webjs
        else ""
    )
    return f"""Link your phone (your account, senders and linked sessions are kept across restarts):
  1. register once (next time: the same body to /api/auth/login) and keep the token:
     TOKEN=$(curl -s -XPOST {api}/api/auth/register -H 'content-type: application/json' \\
       -d '{{"email":"me@example.com","password":"a-long-password"}}' | {json_of.format("token")})
  2. add your number (E.164):
     SENDER=$(curl -s -XPOST {api}/api/senders -H "Authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{{"phone":"+919876543210","drivers":[{drivers}]}}' \\
       | {json_of.format("id")})
  3. start linking: the QR code prints here (the API serves it too: GET /api/senders/$SENDER/qr.png)
     curl -s -XPOST {api}/api/senders/$SENDER/link -H "Authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{{"driver":"neonize"}}'
     or a code to type on the phone instead:
     curl -s -XPOST {api}/api/senders/$SENDER/pairing-code -H "Authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{{"driver":"neonize"}}'{then_webjs}
  4. once it says connected, send (to a number that expects it):
     curl -s -XPOST {api}/api/messages/send -H "Authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{{"phone":"+91...","message":"hi","senderId":"'$SENDER'"}}'
"""
