"""Spintax: `{Hi|Hello|Hey} {{name}}` sends one of the variants to each recipient, so a campaign's messages
are not all the same text (sending one text to many people is a ban signal, whatsmeow's code 104).

A group is `{` ... `}` holding at least one top-level `|`; groups may nest, and a variant may hold
`{{placeholders}}`. A brace that opens no group (`{x}`, a lone `{`) is kept as written. The variant is
chosen with a seed (the message id), so the same message always renders the same text: a re-dispatch
sends what the first dispatch wrote. Pure code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

MAX_VARIANTS = 1_000_000  # counted up to this (a body with more is "very many")


@dataclass(frozen=True)
class _Group:
    options: list[list[_Part]]


_Part = str | _Group


def _parse(body: str, start: int, nested: bool) -> tuple[list[list[_Part]], int]:
    """Parse from `start` until the end (top level) or the `}` closing a group. Returns the options
    (split on top-level `|` inside a group) and the offset after the closing `}` (-1: never closed)."""
    options: list[list[_Part]] = [[]]
    text: list[str] = []
    i = start

    def flush() -> None:
        if text:
            options[-1].append("".join(text))
            text.clear()

    while i < len(body):
        if body.startswith("{{", i):  # a placeholder: copied through whole
            end = body.find("}}", i + 2)
            stop = len(body) if end == -1 else end + 2
            text.append(body[i:stop])
            i = stop
        elif body[i] == "{":
            inner, after = _parse(body, i + 1, nested=True)
            if after != -1 and len(inner) > 1:
                flush()
                options[-1].append(_Group(inner))
                i = after
            else:  # not a group: the brace is text
                text.append("{")
                i += 1
        elif nested and body[i] == "|":
            flush()
            options.append([])
            i += 1
        elif nested and body[i] == "}":
            flush()
            return options, i + 1
        else:
            text.append(body[i])
            i += 1
    flush()
    return options, (-1 if nested else len(body))


def _parts(body: str) -> list[_Part]:
    (top,), _ = _parse(body, 0, nested=False)
    return top


def has_spintax(body: str) -> bool:
    return any(isinstance(p, _Group) for p in _parts(body))


def spin(body: str, seed: str) -> str:
    """`body` with one variant of each group, chosen by `seed` (the same seed: the same text)."""
    rng = random.Random(seed)  # a str seed is hashed with sha512: the same across processes

    def render(parts: list[_Part]) -> str:
        out: list[str] = []
        for part in parts:
            out.append(part if isinstance(part, str) else render(rng.choice(part.options)))
        return "".join(out)

    return render(_parts(body))


def variant_count(body: str) -> int:
    """How many different texts the groups of `body` can make (at most MAX_VARIANTS)."""

    def count(parts: list[_Part]) -> int:
        total = 1
        for part in parts:
            if isinstance(part, _Group):
                total = min(MAX_VARIANTS, total * sum(count(option) for option in part.options))
        return total

    return count(_parts(body))
