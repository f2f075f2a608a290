"""Reading a list's querystring: filters, ``_sort``, ``_limit``, ``_since``,
``_before``, ``_fields`` and ``_token``. Bad values are 400 errno 107."""

import math
from dataclasses import dataclass, field

import ujson

from kinto_server.errors import invalid_parameters
from kinto_server.storage import DEFAULT_SORT, Filter, Operator, Sort

# Longest prefixes first: "contains_any_" must win over "contains_".
PREFIXES = (
    ("contains_any_", Operator.CONTAINS_ANY),
    ("contains_", Operator.CONTAINS),
    ("exclude_", Operator.EXCLUDE),
    ("like_", Operator.LIKE),
    ("not_", Operator.NOT),
    ("has_", Operator.HAS),
    ("min_", Operator.MIN),
    ("max_", Operator.MAX),
    ("eq_", Operator.EQ),
    ("in_", Operator.IN),
    ("gt_", Operator.GT),
    ("lt_", Operator.LT),
)

MAX_LIMIT = 2**63  # As Kinto words its bound.
TIMESTAMP_PARAMS = {"_since": Operator.GT, "_before": Operator.LT, "_to": Operator.LT}


@dataclass
class ListQuery:
    filters: list = field(default_factory=list)
    sorting: tuple = DEFAULT_SORT
    limit: int | None = None
    fields: list | None = None
    token: str | None = None
    include_deleted: bool = False


def native_value(text):
    """A querystring value as JSON when it parses (NaN and infinities, not
    being JSON, stay strings), else the string itself."""
    try:
        value = ujson.loads(text)
    except (ValueError, TypeError):
        return text
    return value if _finite(value) else text


def _finite(value):
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


def _timestamp(param, text, description=None):
    value = native_value(text.strip('"'))
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_parameters("querystring", param, description or not_a_number(text))
    return value


def not_a_number(text):
    """Colander's wording, which Kinto's clients see."""
    return f'"{text}" is not a number'


def _split_operator(param):
    for prefix, operator in PREFIXES:
        if param.startswith(prefix):
            return operator, param[len(prefix) :]
    return Operator.EQ, param


def _filter_value(param, field_name, operator, text):
    if field_name == "last_modified":
        invalid = f"Invalid value for {param}"  # Kinto's wording for filters (colander's for _since).
        if operator in (Operator.IN, Operator.EXCLUDE):
            return [_timestamp(param, part, invalid) for part in text.split(",")]
        if operator not in (Operator.HAS,):
            return _timestamp(param, text, invalid)
    if operator in (Operator.IN, Operator.EXCLUDE):
        values = [native_value(part) for part in text.split(",")]
        return [str(v) for v in values] if field_name == "id" else values
    if operator is Operator.HAS:
        # As Kinto: only false and 0 mean "has not"; any other value means "has".
        return native_value(text) not in (False, 0)
    if operator is Operator.LIKE:
        return text
    if operator in (Operator.CONTAINS, Operator.CONTAINS_ANY):
        value = native_value(text)
        return value if isinstance(value, list) else [value]
    value = native_value(text)
    return str(value) if field_name == "id" and not isinstance(value, str) else value


def _parse_sort(text):
    """Sort fields, ``-`` for descending; empty names are ignored, as Kinto does."""
    sorting = []
    for part in text.split(","):
        part = part.strip()
        name = part.lstrip("-+")
        if name:
            sorting.append(Sort(name, part.startswith("-")))
    return tuple(sorting) or DEFAULT_SORT


def _with_tiebreak(sorting):
    """As Kinto: objects equal on the requested fields come newest first."""
    if any(sort.field == "last_modified" for sort in sorting):
        return sorting
    return (*sorting, *DEFAULT_SORT)


def parse_fields(text):
    """The names of ``_fields`` (dotted for nested ones)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_limit(text):
    """``_limit``: an integer from 0 to MAX_LIMIT (0: no limit), else a 400."""
    try:
        limit = int(text)
    except ValueError:
        raise invalid_parameters("querystring", "_limit", not_a_number(text)) from None
    if limit < 0:
        raise invalid_parameters("querystring", "_limit", f"{limit} is less than minimum value 0")
    if limit > MAX_LIMIT:
        raise invalid_parameters("querystring", "_limit", f"{limit} is greater than maximum value {MAX_LIMIT}")
    return limit or None  # 0 means no explicit limit, as in Kinto.


def _check_size(query, settings, param, value):
    """400 past the ``max_sort_fields`` and ``max_filter_values`` settings:
    each costs time in every backend, and under the write lock on memory."""
    if param == "_sort":
        limit, count = settings["max_sort_fields"], len(query.sorting)
        what = "sort fields"
    elif isinstance(value, list):
        limit, count = settings["max_filter_values"], len(value)
        what = "values"
    else:
        limit, count = settings["max_filter_values"], len(query.filters)
        what = "filters"
    if count > limit:
        raise invalid_parameters("querystring", param, f"At most {limit} {what} are allowed")


def parse(params, settings):
    """Turn the querystring multidict into a :class:`ListQuery`; ``settings``
    give the size limits."""
    query = ListQuery()
    for param, text in params.items():
        if "\x00" in param or "\x00" in text:
            raise invalid_parameters("querystring", param.replace("\x00", ""), "Null characters are not allowed")
        if param in TIMESTAMP_PARAMS:
            query.filters.append(Filter("last_modified", _timestamp(param, text), TIMESTAMP_PARAMS[param]))
            query.include_deleted = True
        elif param == "_sort":
            query.sorting = _parse_sort(text)
            _check_size(query, settings, param, None)
            query.sorting = _with_tiebreak(query.sorting)
        elif param == "_limit":
            query.limit = parse_limit(text)
        elif param == "_fields":
            query.fields = parse_fields(text)
        elif param == "_token":
            query.token = text
        elif param.startswith("_"):
            continue  # Unknown underscore parameters (cache busters...) are ignored.
        else:
            operator, field_name = _split_operator(param)
            if not field_name:
                raise invalid_parameters("querystring", param, "Invalid filter field")
            value = _filter_value(param, field_name, operator, text)
            query.filters.append(Filter(field_name, value, operator))
            _check_size(query, settings, param, value)
            if field_name == "last_modified":
                query.include_deleted = True
    return query
