"""What the SQL compilers of PostgreSQL (:mod:`.sql`) and SQLite
(:mod:`.sqlite_sql`) share: bound parameters, JSON text, and the filters on
the ``id`` and ``last_modified`` columns, which differ only in how each SQL
spells truth, a list of values and a ``like_`` pattern.

As in the memory backend, a column filter with a value of the wrong type
matches nothing (``not_``: everything): ids are strings, timestamps integers.
"""

from collections.abc import Callable
from dataclasses import dataclass

import ujson

from kinto_server.storage import Operator

COLUMNS = ("id", "last_modified")
COMPARATORS = {Operator.LT: "<", Operator.GT: ">", Operator.MIN: ">=", Operator.MAX: "<="}


def dumps(value):
    return ujson.dumps(value, escape_forward_slashes=False)


class Params(dict):
    """Bound parameters of one statement, named ``p0``, ``p1``..., written
    as ``placeholder`` says (``%({})s`` for psycopg2, ``:{}`` for sqlite3)."""

    placeholder = "%({})s"

    def add(self, value):
        name = f"p{len(self)}"
        self[name] = value
        return self.placeholder.format(name)


@dataclass(frozen=True)
class Spelling:
    true: str
    false: str
    in_list: Callable  # (column, values, params) -> SQL
    like: Callable  # (column, pattern, params) -> SQL


def column_filter(flt, params, spelling):
    column, value, op = flt.field, flt.value, flt.operator
    if op is Operator.HAS:
        return spelling.true if value else spelling.false
    expected = str if column == "id" else int
    if op in (Operator.IN, Operator.EXCLUDE):
        values = [v for v in value if isinstance(v, expected) and not isinstance(v, bool)]
        clause = spelling.in_list(column, values, params)
        return clause if op is Operator.IN else f"NOT ({clause})"
    if op is Operator.LIKE:
        return spelling.like(column, value, params) if column == "id" else spelling.false
    if op in (Operator.CONTAINS, Operator.CONTAINS_ANY):
        return spelling.false
    matches_type = isinstance(value, expected) and not isinstance(value, bool)
    if op is Operator.EQ:
        return f"{column} = {params.add(value)}" if matches_type else spelling.false
    if op is Operator.NOT:
        return f"{column} <> {params.add(value)}" if matches_type else spelling.true
    return f"{column} {COMPARATORS[op]} {params.add(value)}" if matches_type else spelling.false
