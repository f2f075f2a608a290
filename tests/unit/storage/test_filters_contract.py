"""Filters and sorts give the same answers on every backend: a table of
queries over objects of mixed shapes and types."""

import pytest

from kinto_server.storage import Filter, Operator, Sort

R, P = "record", "/buckets/b/collections/c"
OBJECTS = [
    {"id": "a", "v": 1, "s": "Apple", "tags": ["x", "y"], "nested": {"k": 1}},
    {"id": "b", "v": 2.5, "s": "banana", "tags": ["y"], "nested": {"k": 2}},
    {"id": "c", "v": "3", "s": "cherry_pie", "tags": [], "flag": True},
    {"id": "d", "v": None, "s": "100%", "flag": False},
    {"id": "e", "v": True, "s": "Éclair", "tags": [["x"]]},
    {"id": "f"},
]


@pytest.fixture
def loaded(storage):
    for obj in OBJECTS:
        storage.create(resource_name=R, parent_id=P, obj=dict(obj))
    return storage


BY_ID = (Sort("id"),)


def ids(storage, filters=(), sorting=BY_ID):
    return [o["id"] for o in storage.list_all(resource_name=R, parent_id=P, filters=filters, sorting=sorting)]


E, F = Operator, Filter


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (F("v", 1), ["a"]),
        (F("v", 1.0), ["a"]),
        (F("v", True), ["e"]),
        (F("v", None), ["d"]),
        (F("v", "3"), ["c"]),
        (F("v", 3), []),
        (F("v", 1, E.NOT), ["b", "c", "d", "e", "f"]),
        (F("v", [1, "3", None], E.IN), ["a", "c", "d"]),
        (F("v", [1, "3"], E.EXCLUDE), ["b", "d", "e", "f"]),
        (F("v", 2, E.GT), ["b"]),
        (F("v", 2.5, E.MIN), ["b"]),
        (F("v", 2.5, E.LT), ["a"]),
        (F("v", 1, E.MAX), ["a"]),
        (F("v", "2", E.GT), ["c"]),
        (F("v", False, E.GT), ["e"]),
        (F("s", "b", E.LT), ["a", "d"]),
        (F("s", "b", E.GT), ["b", "c", "e"]),
        (F("v", True, E.HAS), ["a", "b", "c", "d", "e"]),
        (F("v", False, E.HAS), ["f"]),
        (F("s", "a*", E.LIKE), ["a"]),
        (F("s", "AN", E.LIKE), ["b"]),
        (F("s", "y_p", E.LIKE), ["c"]),
        (F("s", "y?p", E.LIKE), []),
        (F("s", "0%", E.LIKE), ["d"]),
        (F("s", "*ie", E.LIKE), ["c"]),
        (F("tags", ["y"], E.CONTAINS), ["a", "b"]),
        (F("tags", ["x", "y"], E.CONTAINS), ["a"]),
        (F("tags", ["x", "z"], E.CONTAINS_ANY), ["a"]),
        (F("tags", [], E.CONTAINS_ANY), []),
        (F("nested.k", 2), ["b"]),
        (F("nested.k", 1, E.GT), ["b"]),
        (F("nested.missing", True, E.HAS), []),
        (F("id", "c"), ["c"]),
        (F("id", "c", E.NOT), ["a", "b", "d", "e", "f"]),
        (F("id", ["a", "f"], E.IN), ["a", "f"]),
        (F("id", ["a", "f"], E.EXCLUDE), ["b", "c", "d", "e"]),
        (F("id", "c", E.GT), ["d", "e", "f"]),
        (F("id", "C*", E.LIKE), ["c"]),
        (F("id", 3, E.LT), []),
        (F("id", True, E.HAS), ["a", "b", "c", "d", "e", "f"]),
        (F("flag", True), ["c"]),
        (F("flag", False), ["d"]),
    ],
)
def test_filter(loaded, flt, expected):
    assert ids(loaded, [flt]) == expected


def test_last_modified_filters(loaded):
    stamps = {o["id"]: o["last_modified"] for o in loaded.list_all(resource_name=R, parent_id=P)}
    assert ids(loaded, [F("last_modified", stamps["c"], E.GT)]) == ["d", "e", "f"]
    assert ids(loaded, [F("last_modified", stamps["c"], E.MAX)]) == ["a", "b", "c"]
    assert ids(loaded, [F("last_modified", stamps["c"])]) == ["c"]
    assert ids(loaded, [F("last_modified", [stamps["a"], stamps["f"]], E.IN)]) == ["a", "f"]
    assert ids(loaded, [F("last_modified", "x", E.GT)]) == []


@pytest.mark.parametrize(
    ("sorting", "expected"),
    [
        ((Sort("v"),), ["d", "c", "a", "b", "e", "f"]),
        ((Sort("v", descending=True),), ["f", "e", "b", "a", "c", "d"]),
        ((Sort("s"),), ["d", "a", "b", "c", "e", "f"]),
        ((Sort("flag"), Sort("id", descending=True)), ["d", "c", "f", "e", "b", "a"]),
        ((Sort("nested.k", descending=True),), ["c", "d", "e", "f", "b", "a"]),
    ],
)
def test_sort(loaded, sorting, expected):
    assert ids(loaded, sorting=sorting) == expected


@pytest.mark.parametrize(
    "sorting",
    [(Sort("v"),), (Sort("v", descending=True),), (Sort("s"), Sort("id")), (Sort("tags"),), (Sort("last_modified"),)],
)
def test_paginating_with_any_sort_visits_every_object_once(loaded, sorting):
    everything = [o["id"] for o in loaded.list_all(resource_name=R, parent_id=P, sorting=sorting)]
    seen, after = [], None
    while True:
        page = loaded.list_all(resource_name=R, parent_id=P, sorting=sorting, after=after, limit=2)
        if not page:
            break
        seen.extend(o["id"] for o in page)
        last = page[-1]
        after = {"id": last["id"], **{s.field: last[s.field] for s in sorting if s.field in last}}
    assert seen == everything
