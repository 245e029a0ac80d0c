"""Stop keywords: an incoming message that is one of them opts its writer out."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from pydantic import BaseModel

DEFAULT_STOP_KEYWORDS = (
    "stop",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "stopall",
    "opt out",
    "optout",
    "baja",  # es
    "parar",  # pt/es
    "cancelar",  # es/pt
    "sair",  # pt
    "arret",  # fr (arrêt)
    "stopp",  # de/no/sv
    "abmelden",  # de
    "annuleren",  # nl
    "rukein",  # hi (romanised)
    "band karo",  # hi (romanised)
    "रोकें",  # hi
    "बंद",  # hi
    "توقف",  # ar
    "إلغاء",  # ar
    "стоп",  # ru
    "отписаться",  # ru
    "停止",  # zh/ja
    "退订",  # zh
)


def fold_keyword(text: str) -> str:
    """The form stop keywords are compared in: case, accents and surrounding punctuation aside."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip(" .!?¡¿\t\n")


def is_stop_keyword(text: str, keywords: list[str] | None = None) -> bool:
    """True when the whole message (case, accents and punctuation aside) is a stop keyword."""
    folded = fold_keyword(text)
    return bool(folded) and folded in {fold_keyword(k) for k in (keywords or DEFAULT_STOP_KEYWORDS)}


class OptOut(BaseModel):
    """One opted-out number of an account: the single source of truth for "may we send to it"."""

    phone: str
    source: str
    at: datetime
