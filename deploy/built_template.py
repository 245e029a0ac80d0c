"""The little `check_artifacts` needs from the template `sam build` writes (standard library only,
so no YAML parser): where each function's and layer's code is, and which layers each function uses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class BuiltTemplate:
    """What the check needs from the template `sam build` writes: where each function's and layer's
    code is (relative to the build dir), and which layers each function uses."""

    functions: dict[str, str] = field(default_factory=dict)
    layers: dict[str, str] = field(default_factory=dict)
    function_layers: dict[str, list[str]] = field(default_factory=dict)


def _yaml_lines(text: str) -> Iterator[tuple[tuple[str, ...], str | None, str]]:
    """(parent keys, key, value) of each line of a block-style YAML document; key None for a list item.
    Enough for the template `sam build` writes: flow collections stay strings, block scalars are skipped."""
    stack: list[tuple[int, str]] = []
    scalar_indent: int | None = None
    for raw in text.splitlines():
        line = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if not line or line.startswith("#") or line == "---" or (scalar_indent is not None and indent > scalar_indent):
            continue
        scalar_indent = None
        item = line == "-" or line.startswith("- ")
        while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and not item)):
            stack.pop()
        parents = tuple(key for _, key in stack)
        if item:
            yield parents, None, line[1:].strip()
            stack.append((indent + 1, "-"))  # what the item holds on the lines below is not the list's
            continue
        match = re.match(r"(.+?):(?:\s+|$)(.*)", line)
        if not match:
            continue
        key, value = match.group(1).strip("'\""), match.group(2).strip()
        yield parents, key, value
        if value[:1] in ("|", ">"):
            scalar_indent = indent
        elif not value:
            stack.append((indent, key))


def _refs(value: str) -> list[str]:
    """Layer ids in a list item (`Ref: X`, `!Ref X`) or an inline list (`[!Ref X, !Ref Y]`); ARNs as they are."""
    items = value.strip("[]").split(",") if value.startswith("[") else [value]
    names = (re.sub(r"^\{?\s*(!Ref\s+|Ref:\s*)", "", item.strip()).rstrip("} ") for item in items)
    return [name.strip("'\"").rstrip(":") for name in names]  # `Fn::If:` when a condition picks the layer


def _is_layers(parents: tuple[str, ...], key: str | None, owner: tuple[str, ...]) -> bool:
    """`Layers: [...]` right under owner, or an item of a `Layers:` list right under owner."""
    return (parents == owner and key == "Layers") or (parents == (*owner, "Layers") and key is None)


def parse_built_template(text: str) -> BuiltTemplate:
    """Functions (AWS::Serverless::Function with CodeUri) and layers of a built SAM template. A function's
    layers are the Globals' followed by its own, as SAM merges them."""
    types: dict[str, str] = {}
    uris: dict[str, str] = {}
    own: dict[str, list[str]] = {}
    global_layers: list[str] = []
    for parents, key, value in _yaml_lines(text):
        if value and _is_layers(parents, key, ("Globals", "Function")):
            global_layers += _refs(value)
        elif len(parents) == 2 and parents[0] == "Resources" and key == "Type":
            types[parents[1]] = value
        elif len(parents) < 3 or parents[0] != "Resources" or parents[2] != "Properties":
            continue
        elif len(parents) == 3 and key in ("CodeUri", "ContentUri"):
            uris[parents[1]] = value.strip("'\"")
        elif value and _is_layers(parents, key, parents[:3]):
            own.setdefault(parents[1], []).extend(_refs(value))
    built = BuiltTemplate()
    for name, kind in types.items():
        if kind == "AWS::Serverless::Function" and name in uris:
            built.functions[name] = uris[name]
            built.function_layers[name] = list(dict.fromkeys(global_layers + own.get(name, [])))
        elif kind == "AWS::Serverless::LayerVersion" and name in uris:
            built.layers[name] = uris[name]
    return built
