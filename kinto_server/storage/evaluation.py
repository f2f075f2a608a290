"""Filters and sort keys evaluated in Python, for the in-memory backend.

Values are ordered as PostgreSQL orders ``jsonb`` (null < string < number <
boolean < array < object) so both backends sort mixed-type fields alike;
objects lacking the field sort after every value in ascending order.
"""

import re
from functools import lru_cache

from kinto_server.storage import Operator

MISSING = object()

_TYPE_RANK = {type(None): 0, str: 1, int: 2, float: 2, bool: 3, list: 4, dict: 5}


def resolve(obj, field):
    """The value of a dotted ``field`` in ``obj``, or ``MISSING``."""
    if "." not in field:
        return obj.get(field, MISSING)
    value = obj
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _rank(value):
    return _TYPE_RANK.get(type(value), 6)


def sort_key(value):
    """A key ordering values of any JSON type; missing values last."""
    if value is MISSING:
        return (7, 0)
    rank = _rank(value)
    if rank >= 4:
        return (rank, repr(value))
    return (rank, value)


def _comparable(left, right):
    if left is MISSING or left is None or right is None:
        return False
    rank = _rank(left)
    return rank == _rank(right) and rank < 4


@lru_cache(maxsize=256)
def _like_pattern(value):
    text = str(value)
    if "*" not in text:
        text = f"*{text}*"
    parts = [re.escape(p) for p in text.split("*")]
    return re.compile("^" + ".*".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _equals(left, right):
    if left is MISSING:
        return False
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return left == right


def _contains(left, values, require_all):
    if not isinstance(left, list):
        return False
    found = [any(_equals(item, v) for item in left) for v in values]
    return all(found) if require_all else any(found)


def matches(obj, flt):
    """True when ``obj`` satisfies the filter ``flt``."""
    left = resolve(obj, flt.field)
    right = flt.value
    op = flt.operator
    if op is Operator.EQ:
        return _equals(left, right)
    if op is Operator.NOT:
        return not _equals(left, right)
    if op is Operator.IN:
        return any(_equals(left, v) for v in right)
    if op is Operator.EXCLUDE:
        return not any(_equals(left, v) for v in right)
    if op is Operator.HAS:
        return (left is not MISSING) == bool(right)
    if op is Operator.LIKE:
        return isinstance(left, str) and _like_pattern(right).match(left) is not None
    if op is Operator.CONTAINS:
        return _contains(left, right, require_all=True)
    if op is Operator.CONTAINS_ANY:
        return _contains(left, right, require_all=False)
    if not _comparable(left, right):
        return False
    if op is Operator.LT:
        return left < right
    if op is Operator.GT:
        return left > right
    if op is Operator.MIN:
        return left >= right
    if op is Operator.MAX:
        return left <= right
    raise ValueError(f"unknown operator {op}")


def matches_all(obj, filters):
    return all(matches(obj, f) for f in filters)


class _Reversed:
    """Wraps a sort key so that it orders in reverse (for descending fields)."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __lt__(self, other):
        return other.key < self.key

    def __gt__(self, other):
        return other.key > self.key

    def __eq__(self, other):
        return self.key == other.key


def object_key(obj, sorting):
    """The full ordering key of ``obj`` for ``sorting``, ties broken by id."""
    parts = []
    for sort in sorting:
        key = sort_key(resolve(obj, sort.field))
        parts.append(_Reversed(key) if sort.descending else key)
    parts.append(obj.get("id", ""))
    return tuple(parts)
