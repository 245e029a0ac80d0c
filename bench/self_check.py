"""Checks the bench's own machinery before `make bench` trusts it (bench/run.py runs this first):
- DynamoDB's billing rules as local/dynamo_units.py computes them, on small cases worked by hand;
- the bench's moto patches (bench/moto_server.py) answer exactly as moto does: the same requests (pages of
  Queries with prefixes, ranges, filters and start keys; reads; conditional writes) before and after
  patching, in one process.

Run: .venv/bin/python bench/self_check.py
"""

from __future__ import annotations

import random
from typing import Any

from local.dynamo_units import gsi_units, item_size, read_units, write_units

S = {"S": "x" * 1100}  # an item of 1,118 bytes: 2 write units
TABLE = {"keys": ["pk", "sk"], "indexes": {"g": {"keys": ["gk", "gs"], "projection": "ALL", "include": []}}}


def check_units() -> None:
    assert item_size({"abc": {"S": "hello"}}) == 8
    assert item_size({"n": {"N": "12345"}}) == 1 + 3 + 1  # 5 significant digits: 3 bytes, + 1
    assert item_size({"n": {"N": "-0.00120"}}) == 1 + 1 + 1  # "12"
    assert item_size({"l": {"L": [{"S": "ab"}, {"BOOL": True}]}}) == 1 + 3 + (2 + 1) + (1 + 1)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"ss": {"SS": ["a", "bc"]}}) == 2 + 3
    assert write_units(0) == 1 and write_units(1024) == 1 and write_units(1025) == 2
    assert read_units(4096, True) == 1 and read_units(4097, True) == 2 and read_units(100, False) == 0.5
    old = {"pk": {"S": "a"}, "sk": {"S": "b"}, "gk": {"S": "g"}, "gs": {"S": "QUEUED"}, "v": S}
    moved = {**old, "gs": {"S": "SENT"}}
    assert item_size(old) == 1118
    assert gsi_units(None, old, TABLE) == 2  # appears: its size
    assert gsi_units(old, old, TABLE) == 0  # unchanged
    assert gsi_units(old, moved, TABLE) == 4  # key changed: a delete and a put
    assert gsi_units(old, {**old, "v": {"S": "y"}}, TABLE) == 2  # changed in place: the larger size
    assert gsi_units(old, {k: v for k, v in old.items() if k != "gs"}, TABLE) == 2  # leaves the index


def _pages(client: Any, **request: Any) -> list[list[str]]:
    out, start = [], None
    for _ in range(500):
        page = client.query(TableName="t", **request, **({"ExclusiveStartKey": start} if start else {}))
        out.append([i["sk"]["S"] for i in page["Items"]])
        start = page.get("LastEvaluatedKey")
        if not start:
            return out
    raise AssertionError("too many pages")


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)", "Limit": 7, "V": {":s": "CTAG#a#"}},
    {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)", "Limit": 50, "V": {":s": "CTAG#"}},
    {"KeyConditionExpression": "pk = :p", "Limit": 33, "V": {}},
    {"KeyConditionExpression": "pk = :p", "V": {}},
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "Limit": 9,
        "V": {":a": "CONTACT#2", ":b": "CTAG#b#5"},
    },
    {"KeyConditionExpression": "pk = :p AND sk < :a", "Limit": 11, "V": {":a": "CTAG#b"}},
    {"KeyConditionExpression": "pk = :p AND sk >= :a", "Limit": 13, "V": {":a": "CTAG#b"}},
    {"KeyConditionExpression": "pk = :p AND sk = :a", "V": {":a": "nope"}},
    {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)", "Limit": 10, "V": {":s": "CTAG#"}, "Filter": True},
    {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)", "Limit": 10, "V": {":s": "CTAG#"}, "Back": True},
]


def _answers(client: Any) -> list[Any]:
    answers: list[Any] = []
    for q in QUERIES:
        values = {":p": {"S": "P1"}, **{k: {"S": v} for k, v in q["V"].items()}}
        request: dict[str, Any] = {"KeyConditionExpression": q["KeyConditionExpression"]}
        if "Limit" in q:
            request["Limit"] = q["Limit"]
        if q.get("Filter"):
            request["FilterExpression"], values[":n"] = "v > :n", {"N": "300"}
        if q.get("Back"):
            request["ScanIndexForward"] = False
        answers.append(_pages(client, ExpressionAttributeValues=values, **request))
    keys = [{"pk": {"S": "P1"}, "sk": {"S": s}} for s in ("CTAG#a#000001", "X000002", "missing")]
    answers.append(client.batch_get_item(RequestItems={"t": {"Keys": keys}})["Responses"])
    answers.append(client.get_item(TableName="t", Key=keys[0]).get("Item"))
    outcomes = []
    for _ in range(2):  # the second conditional put fails, whatever the expression cache holds
        try:
            client.put_item(
                TableName="t", Item={**keys[2], "v": {"N": "1"}}, ConditionExpression="attribute_not_exists(pk)"
            )
            outcomes.append("put")
        except client.exceptions.ConditionalCheckFailedException:
            outcomes.append("refused")
    client.delete_item(TableName="t", Key=keys[2])
    return [*answers, outcomes]


def check_moto_patches() -> None:
    import boto3
    from moto import mock_aws

    from bench import moto_server

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk")],
            BillingMode="PAY_PER_REQUEST",
        )
        rng = random.Random(1)
        for i in range(400):
            prefix = rng.choice(["CTAG#a#", "CTAG#b#", "CONTACT#", "CTAG#ab#", "X"])
            item = {"pk": {"S": rng.choice(["P1", "P2"])}, "sk": {"S": f"{prefix}{i:06d}"}, "v": {"N": str(i)}}
            client.put_item(TableName="t", Item=item)
        before = _answers(client)
        moto_server.patch()
        after = _answers(client)
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert b == a, f"the bench's moto answers request {i} differently:\n{b}\n{a}"
        client.put_item(TableName="t", Item={"pk": {"S": "P1"}, "sk": {"S": "CTAG#a#"}})  # a new key, after caching
        assert _pages(client, **_first_query())[0][0] == "CTAG#a#"


def _first_query() -> dict[str, Any]:
    return {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "ExpressionAttributeValues": {":p": {"S": "P1"}, ":s": {"S": "CTAG#a#"}},
        "Limit": 7,
    }


def main() -> None:
    check_units()
    check_moto_patches()
    print("the billing rules and the bench's moto patches check out")


if __name__ == "__main__":
    main()
