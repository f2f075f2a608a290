"""Filters and sort keys evaluated in Python, for the in-memory backend.

Values are ordered as PostgreSQL orders ``jsonb`` (null < string < number <
boolean < array < object) so both backends sort mixed-type fields alike;
objects lacking the field sort after every value in ascending order.
"""

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


def like_matcher(pattern):
    """A test of Kinto's ``like_`` pattern (``*`` for any text, case
    insensitive, ``*text*`` when there is no ``*``) that runs in linear time.

    The pieces between stars are searched for in order, each at its leftmost
    place: with no other wildcard, a leftmost match never rules out a match
    later on, so there is no backtracking (a regular expression with several
    ``.*`` takes exponential time on ``*a*a*a*b`` against a long run of a's).
    """
    text = str(pattern).lower()
    if "*" not in text:
        text = f"*{text}*"
    first, *middle, last = text.split("*")
    minimum = len(first) + len(last) + sum(len(p) for p in middle)

    def test(value):
        value = value.lower()
        if len(value) < minimum or not value.startswith(first) or not value.endswith(last):
            return False
        position, end = len(first), len(value) - len(last)
        for piece in middle:
            found = value.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True

    return test


def _equals(left, right):
    if left is MISSING:
        return False
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return left == right


def _scalar_key(value):
    """A hashable key equal for values ``_equals`` holds equal (True is not
    1, 1 is 1.0), or None for lists and objects."""
    if isinstance(value, bool):
        return (bool, value)
    if isinstance(value, (int, float)):
        return (float, value)
    if value is None or isinstance(value, str):
        return (str, value)
    return None


def _membership(values):
    """A test of ``left`` against many values: a set lookup for scalars, so
    a long ``in_`` list costs no more per object than a short one."""
    keys = {key for key in map(_scalar_key, values) if key is not None}
    others = [v for v in values if _scalar_key(v) is None]

    def contains(left):
        if left is MISSING:
            return False
        key = _scalar_key(left)
        if key is not None:
            return key in keys
        return any(_equals(left, v) for v in others)

    return contains


def _contains(left, values, require_all):
    if not isinstance(left, list):
        return False
    found = [any(_equals(item, v) for item in left) for v in values]
    return all(found) if require_all else any(found)


def _comparison(op, right):
    compare = {
        Operator.LT: lambda left: left < right,
        Operator.GT: lambda left: left > right,
        Operator.MIN: lambda left: left >= right,
        Operator.MAX: lambda left: left <= right,
    }[op]
    return lambda left: _comparable(left, right) and compare(left)


def _value_test(op, right):
    """A test of one resolved value for the operator ``op`` and value ``right``."""
    if op is Operator.EQ:
        return lambda left: _equals(left, right)
    if op is Operator.NOT:
        return lambda left: not _equals(left, right)
    if op is Operator.IN:
        return _membership(right)
    if op is Operator.EXCLUDE:
        member = _membership(right)
        return lambda left: not member(left)
    if op is Operator.HAS:
        return lambda left: (left is not MISSING) == bool(right)
    if op is Operator.LIKE:
        like = like_matcher(right)
        return lambda left: isinstance(left, str) and like(left)
    if op is Operator.CONTAINS:
        return lambda left: _contains(left, right, require_all=True)
    if op is Operator.CONTAINS_ANY:
        return lambda left: _contains(left, right, require_all=False)
    if op in (Operator.LT, Operator.GT, Operator.MIN, Operator.MAX):
        return _comparison(op, right)
    raise ValueError(f"unknown operator {op}")


def predicate(filters):
    """A function telling whether an object satisfies all ``filters``,
    prepared once for a whole list (patterns and value sets built once)."""
    tests = [(f.field, _value_test(f.operator, f.value)) for f in filters]
    if not tests:
        return lambda obj: True
    return lambda obj: all(test(resolve(obj, field)) for field, test in tests)


def matches(obj, flt):
    """True when ``obj`` satisfies the filter ``flt``."""
    return predicate([flt])(obj)


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
