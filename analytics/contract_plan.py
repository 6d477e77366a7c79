"""A dataset's contract as one polars query: the fast answer to "does every check hold?".

pandera runs a contract one check at a time, one query each: about a hundred queries for
the shipments table, whose fixed cost is most of the time a validation of this package's
small tables takes. :func:`passing` asks the same question of the same pandera schema
object in one query: it applies the schema's coercions (pandera's own ``coerce`` of each
column's dtype), nullability, uniqueness, and every column and dataframe check, and
reduces each to one boolean. A check is the expression its own function selects,
recorded once per schema (:class:`_Recorder`); one that does more than select runs
through pandera's polars check backend on the frame.

When every check holds it returns the coerced frame, which is what pandera returns for
a valid frame, and pandera need not run. When any check fails, a coercion raises, or the
schema uses a feature the plan does not cover (regex columns, parsers, defaults,
dropping invalid rows, ordered columns, grouped checks), it returns ``None`` and the
caller runs pandera, whose report is the one a user reads. The plan never produces a
finding: it can only spare the work of a validation that would find nothing.

>>> import polars as pl
>>> from analytics.schemas import SCHEMAS
>>> ents = pl.DataFrame({"entity_id": ["a", "b"], "name": ["A", "B"],
...     "native_name": None, "kind": "company", "country": "CN", "parent_id": None,
...     "aliases": [[], []], "notes": None})
>>> from analytics.schemas import with_optional_columns
>>> passing(SCHEMAS["entities"].to_schema(), with_optional_columns("entities", ents)).height
2
>>> passing(SCHEMAS["entities"].to_schema(),
...         with_optional_columns("entities", ents.with_columns(entity_id=pl.lit("a")))) is None
True
"""

from __future__ import annotations

from typing import Any, NamedTuple

import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.backends.polars.checks import PolarsCheckBackend
from pandera.constants import CHECK_OUTPUT_KEY

__all__ = ["passing", "passing_all", "supported"]


class _Unsupported(Exception):
    """The schema needs something the plan does not reproduce: pandera runs instead."""


def supported(schema: Any) -> bool:
    """Whether every feature ``schema`` uses is one the plan reproduces exactly."""
    if schema.ordered or schema.unique or schema.add_missing_columns:
        return False
    if getattr(schema, "drop_invalid_rows", False) or getattr(schema, "parsers", None):
        return False
    for spec in schema.columns.values():
        if spec.regex or getattr(spec, "parsers", None) or spec.default is not None:
            return False
        if getattr(spec, "drop_invalid_rows", False) or spec.dtype is None:
            return False
    checks = [c for spec in schema.columns.values() for c in spec.checks] + list(schema.checks)
    return not any(c.groupby is not None or c.raise_warning for c in checks)


def _reload(check: Any) -> None:
    """Use the backend's own version of a built-in check function, as ``Check.__call__``."""
    builtin = getattr(check._check_fn, "__name__", None)
    if builtin is not None and check.is_builtin_check(builtin):
        check._check_fn = check.get_builtin_check_fn(builtin)


def _check(check: Any, lf: pl.LazyFrame, key: str, alias: str) -> pl.LazyFrame | bool:
    """One check as a one-row boolean frame, exactly as pandera's backend judges it."""
    _reload(check)
    backend = type(check).get_backend(lf)
    if backend is not PolarsCheckBackend:  # another backend (narwhals) is configured
        raise _Unsupported(backend.__name__)
    out = backend(check).apply(PolarsData(lf, key))
    if isinstance(out, bool):
        return out
    return out.select(_reduce(check, pl.col(CHECK_OUTPUT_KEY)).alias(alias))


def _reduce(check: Any, passed: pl.Expr) -> pl.Expr:
    """Whether a check's row results all pass; a null passes when the check ignores nulls."""
    return passed.fill_null(bool(check.ignore_na)).all()


class _Recorder:
    """Stands in for the LazyFrame a check reads, and records the expressions it selects.

    pandera's built-in checks and this package's own each return
    ``data.lazyframe.select(expression)``; recorded once, the expressions of a whole
    contract run in one ``select``. A check that does anything else with the frame
    raises here and is run on the frame itself.
    """

    def select(self, *exprs: Any, **named: Any) -> _Selected:
        flat = [e for x in exprs for e in (x if isinstance(x, list | tuple) else [x])]
        if not all(isinstance(e, pl.Expr | str) for e in [*flat, *named.values()]):
            raise _Unsupported("select of something other than expressions")
        out = [pl.col(e) if isinstance(e, str) else e for e in flat]
        out += [(pl.col(e) if isinstance(e, str) else e).alias(k) for k, e in named.items()]
        return _Selected(out)

    def __getattr__(self, name: str) -> Any:
        raise _Unsupported(name)


class _Selected(NamedTuple):
    exprs: list[pl.Expr]


def _recorded(check: Any, key: str) -> pl.Expr | None:
    """A check as one boolean expression over the frame (``None``: run it on the frame)."""
    _reload(check)
    if check.element_wise or type(check).get_backend(pl.LazyFrame()) is not PolarsCheckBackend:
        return None
    try:
        out = check._check_fn(PolarsData(_Recorder(), key), **check._check_kwargs)
    except _Unsupported:
        return None
    if not isinstance(out, _Selected) or not out.exprs:
        return None
    # pandera folds the columns of a check's output with ``&``: Kleene logic, as here
    return _reduce(check, out.exprs[0] if len(out.exprs) == 1 else pl.all_horizontal(out.exprs))


#: The recorded checks of each schema: ``id(schema) -> (schema, {(key, index): expr})``;
#: the schema is held so that its id is never reused.
_RECORDED: dict[int, tuple[Any, dict[tuple[str, int], pl.Expr | None]]] = {}


def _recorded_checks(schema: Any) -> dict[tuple[str, int], pl.Expr | None]:
    if id(schema) not in _RECORDED:
        found = {(name, i): _recorded(c, name)
                 for name, spec in schema.columns.items() for i, c in enumerate(spec.checks)}
        found |= {("*", i): _recorded(c, "*") for i, c in enumerate(schema.checks)}
        _RECORDED[id(schema)] = (schema, found)
    return _RECORDED[id(schema)][1]


def _column(spec: Any, dtype: pl.DataType, name: str) -> list[pl.Expr]:
    """Nullability and uniqueness of one column, as pandera's column backend checks them.

    Uniqueness is proved on 64-bit hashes (an eighth of the memory of ``is_duplicated``
    on text): distinct hashes mean distinct values; equal ones, whether a duplicate or a
    collision, fail the plan, and pandera decides.
    """
    col = pl.col(name)
    out = []
    if not spec.nullable:
        present = col.is_not_null()
        if dtype.is_float():
            present = present & col.is_not_nan()
        out.append(present.all())
    if spec.unique:  # distinct hashes prove distinct values; a collision sends it to pandera
        out.append(col.hash().n_unique() == pl.len())
    return out


def _verdicts(schema: Any, coerced: pl.LazyFrame) -> list[pl.LazyFrame] | None:
    """Every check of ``schema`` on ``coerced`` as one-row frames (``None``: one fails
    without running, as a check that answers ``False`` outright or a wrong dtype)."""
    types = coerced.collect_schema()
    recorded = _recorded_checks(schema)
    exprs: list[pl.Expr] = []
    frames: list[pl.LazyFrame | bool] = []
    checks = [(n, spec.checks) for n, spec in schema.columns.items()] + [("*", schema.checks)]
    for name, spec in schema.columns.items():
        if not spec.dtype.check(types[name], PolarsData(coerced.select(name), name)):
            return None
        exprs += _column(spec, types[name], name)
    for key, listed in checks:
        for i, check in enumerate(listed):
            expr = recorded[key, i]
            if expr is not None:
                exprs.append(expr)
            else:
                frames.append(_check(check, coerced, key, f"_c{len(frames)}"))
    if any(f is False for f in frames):
        return None
    lazy = [f for f in frames if not isinstance(f, bool)]
    if exprs:
        lazy.append(coerced.select(e.alias(f"_n{i}") for i, e in enumerate(exprs)))
    return lazy


def _coerced(schema: Any, df: pl.DataFrame) -> pl.LazyFrame | None:
    """``df`` cast by pandera's coercion of each column (``None``: the plan does not apply)."""
    if not supported(schema) or set(df.columns) != set(schema.columns):
        return None
    schema.register_default_backends(pl.LazyFrame)
    lf = df.lazy()
    for name, spec in schema.columns.items():
        if spec.coerce or schema.coerce:
            lf = spec.dtype.coerce(PolarsData(lf, name))
    return lf


def _answer(schema: Any, out: pl.DataFrame) -> pl.LazyFrame | None:
    """Every check of ``schema`` on the coerced ``out`` as one row of booleans (``None``:
    a check fails without running)."""
    verdicts = _verdicts(schema, out.lazy())
    if verdicts is None:
        return None
    return pl.concat(verdicts, how="horizontal") if verdicts else pl.LazyFrame({"_": [True]})


def passing(schema: Any, df: pl.DataFrame) -> pl.DataFrame | None:
    """``df`` coerced to ``schema`` when every check of it holds; ``None`` otherwise.

    Parameters
    ----------
    schema : pandera.polars.DataFrameSchema
        The contract (for a dataset, ``SCHEMAS[name].to_schema()``).
    df : polars.DataFrame
        A frame with exactly the schema's columns.

    Returns
    -------
    polars.DataFrame or None
        The frame as pandera returns it for a valid frame, or ``None``: run pandera for
        the findings (some check fails, a coercion fails, or the plan does not apply).
    """
    return passing_all([(schema, df)])[0]


def passing_all(items: list[tuple[Any, pl.DataFrame]]) -> list[pl.DataFrame | None]:
    """:func:`passing` of several frames, their queries run side by side.

    >>> passing_all([])
    []
    """
    lazy = [_coerced(schema, df) for schema, df in items]
    todo = [i for i, lf in enumerate(lazy) if lf is not None]
    outs = _collect(lazy, todo)
    todo = [i for i in todo if outs[i] is not None]
    answers: list[Any] = [None] * len(items)
    for i in todo:
        try:
            answers[i] = _answer(items[i][0], outs[i])
        except Exception:  # a check that raises while it is built: pandera reports it
            answers[i] = None
    todo = [i for i in todo if answers[i] is not None]
    rows = _collect(answers, todo)
    return [outs[i] if rows[i] is not None and all(rows[i].row(0)) else None
            for i in range(len(items))]


def _collect(plans: list[Any], todo: list[int]) -> list[pl.DataFrame | None]:
    """The plans at ``todo`` collected together; one that raises is ``None`` alone."""
    out: list[pl.DataFrame | None] = [None] * len(plans)
    try:
        for i, frame in zip(todo, pl.collect_all([plans[i] for i in todo]), strict=True):
            out[i] = frame
    except Exception:  # a cast or a check that raises: pandera reports it
        for i in todo:
            try:
                out[i] = plans[i].collect()
            except Exception:
                out[i] = None
    return out
