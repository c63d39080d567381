"""The base of the tenant-scoped repositories.

A repository is built with the session and the tenant of its unit of work, and every query it
runs is filtered by that tenant (see `unit_of_work`). `TenantScoped` holds the two;
`TenantScopedRepository[M]` adds what every repository of one model repeats: a row by primary
key (the tenant, then the rest of the key), adding a row for the tenant, deleting one of its
rows, and the tenant's rows that meet some conditions.

Many rows at once go through the database driver (`DriverQuery`, `DriverUpsert`): the status
read model's scans of a tenant's stores and the bulk writes of the store import. SQLAlchemy's
`Row` and its per-row bind and result processing cost a third of a 10,000-store scan, and
compiling a statement costs as much as running a small one: `DriverQuery` compiles its
statement once per database and hands the driver's own tuples back; `DriverUpsert` sends many
rows of plain values in one go. Both run on the session's connection, in its transaction, and
only for columns that need no processing (strings, numbers, booleans, bytes). Timestamps read
through the driver come as the database gives them (text from SQLite): fine to compare, not
to show.

`upsert` is `INSERT ... ON CONFLICT (key) DO UPDATE SET ... WHERE <some column differs>`, on
SQLite and PostgreSQL alike: a row that holds the values given already is left as it is (no
write, its `updated_at` does not move), so a writer that finds nothing changed writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from clienteling_setup.db.base import Base, TenantOwned

M = TypeVar("M", bound=TenantOwned)


class TenantScoped:
    """The session and the tenant a repository reads and writes for."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id


class TenantScopedRepository(TenantScoped, Generic[M]):
    """The tenant's rows of `model`, which each subclass names."""

    model: type[M]

    def get(self, *key: str) -> M | None:
        """The row whose primary key is the tenant followed by `key`."""
        return self.session.get(self.model, (self.tenant_id, *key))

    def add(self, row: M) -> M:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        return row

    def delete(self, row: M) -> None:
        if row.tenant_id == self.tenant_id:
            self.session.delete(row)

    def _mine(self, *where: ColumnElement[bool]) -> ColumnElement[bool]:
        """The condition: a row of the tenant that meets every condition of `where`."""
        return and_(self.model.tenant_id == self.tenant_id, *where)

    def _select(self, *where: ColumnElement[bool]) -> Select[M]:
        return select(self.model).where(self._mine(*where))

    def _one(self, *where: ColumnElement[bool]) -> M | None:
        return self.session.scalar(self._select(*where))

    def _all(self, *where: ColumnElement[bool]) -> list[M]:
        return list(self.session.scalars(self._select(*where)))

    def _count(self, *where: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(self.model).where(self._mine(*where))
        return int(self.session.scalar(query) or 0)


# -- many rows at once, through the driver -----------------------------------------------------


class DriverQuery:
    """A SELECT with named parameters (`bindparam("tenant")`), compiled once per database,
    whose rows are read as the driver returns them."""

    def __init__(self, query: Select[*tuple[Any, ...]]) -> None:
        self.query = query
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def rows(
        self, session: Session, params: Mapping[str, Any], *, binary: bool = False
    ) -> list[Any]:
        """`binary`: on PostgreSQL, rows in the binary format (bytes as they are stored, not
        hex text to decode: half the bytes on the wire, nothing to decode)."""
        connection = session.connection()
        dialect = connection.dialect
        sql, names, fixed = self._sql(dialect)
        given = {**fixed, **params}
        values: Any = given if names is None else tuple(given[name] for name in names)
        cursor: Any = connection.connection.cursor()
        try:
            if binary and dialect.name == "postgresql":
                cursor.execute(sql, values, binary=True)  # psycopg's own option
            else:
                cursor.execute(sql, values)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def _sql(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        """The SQL, the names of its positional parameters in order (None: named ones), and
        the values the statement holds itself (its literals)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.query.compile(dialect=dialect)
            names = tuple(compiled.positiontup or ()) if compiled.positional else None
            fixed = {k: v for k, v in compiled.params.items() if v is not None}
            found = self._compiled[dialect.name] = (str(compiled), names, fixed)
        return found


def upsert(
    session: Session,
    model: type[Base],
    *,
    key: Sequence[str],
    changing: Sequence[str],
    also_set: Sequence[str] = (),
    source: tuple[Sequence[str], Select[*tuple[Any, ...]]] | None = None,
) -> SqliteInsert | PostgresqlInsert:
    """The statement for `session`'s database: insert (the rows of `source`, its columns and
    a SELECT of them, if given), or on a conflict on `key` set the `changing` columns (and
    `also_set`, as `updated_at`) where one of `changing` differs."""
    dialect = session.get_bind().dialect.name
    statement = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(model)
    if source is not None:
        statement = statement.from_select(list(source[0]), source[1])
    new = statement.excluded
    table = model.__table__.c
    return statement.on_conflict_do_update(
        index_elements=[table[c] for c in key],
        set_={c: new[c] for c in (*changing, *also_set)},
        where=or_(*(table[c].is_distinct_from(new[c]) for c in changing)),
    )


class DriverUpsert:
    """`upsert` of many rows given as tuples of `columns`, past SQLAlchemy's per-row bind
    processing, plus `constants`, columns with one value for every row (the tenant, the
    timestamps; converted once as SQLAlchemy would). `key`, `changing` and `also_set` as for
    `upsert`. On PostgreSQL one statement with an
    array per column (`INSERT ... SELECT ... FROM unnest(...)`): one execution on the server,
    not one per row. On SQLite the driver's `executemany` (in process, in C). The SQL is
    compiled once per database."""

    def __init__(
        self,
        model: type[Base],
        columns: Sequence[str],
        *,
        constants: Sequence[str],
        key: Sequence[str],
        changing: Sequence[str],
        also_set: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.columns = tuple(columns)
        self.constants = tuple(constants)
        self.key = tuple(key)
        self.changing = tuple(changing)
        self.also_set = tuple(also_set)
        self._compiled: dict[str, tuple[str, tuple[int, ...] | None]] = {}

    def run(
        self, session: Session, rows: Sequence[tuple[Any, ...]], constants: Mapping[str, Any]
    ) -> None:
        if not rows:
            return
        connection = session.connection()
        dialect = connection.dialect
        sql, order = self._sql(session, dialect)
        table = self.model.__table__.c
        fixed = []
        for name in self.constants:  # as SQLAlchemy would send them (SQLite: text dates)
            # The dialect's own type: a type decorator's processor alone leaves a datetime,
            # which the driver would format another way (and once per row).
            process = table[name].type.dialect_impl(dialect).bind_processor(dialect)
            fixed.append(process(constants[name]) if process else constants[name])
        if order is not None:  # SQLite: positional, row by row
            every = tuple(fixed)
            if order == tuple(range(len(self.columns) + len(every))):
                connection.exec_driver_sql(sql, [row + every for row in rows])
            else:
                arrange = itemgetter(*order)
                connection.exec_driver_sql(sql, [arrange(row + every) for row in rows])
            return
        # One statement may not change a row twice: of rows with one key, the last wins (as
        # it does row by row).
        at = [self.columns.index(c) for c in self.key if c in self.columns]
        rows = list({tuple(row[i] for i in at): row for row in rows}.values())
        params = {name: [row[i] for row in rows] for i, name in enumerate(self.columns)}
        params.update(zip(self.constants, fixed, strict=True))
        connection.exec_driver_sql(sql, params)

    def _sql(self, session: Session, dialect: Dialect) -> tuple[str, tuple[int, ...] | None]:
        """The SQL, and for positional parameters the index of each in a row followed by
        the constants (None: named parameters)."""
        found = self._compiled.get(dialect.name)
        if found is not None:
            return found
        names = (*self.columns, *self.constants)
        changing = self.changing
        table = self.model.__table__.c
        if dialect.name == "sqlite":
            statement = upsert(
                session, self.model, key=self.key, changing=changing, also_set=self.also_set
            )
            compiled = statement.compile(dialect=dialect, column_keys=list(names))
            order: tuple[int, ...] | None = tuple(
                names.index(name) for name in compiled.positiontup or ()
            )
        else:
            arrays = [bindparam(c, type_=ARRAY(table[c].type)) for c in self.columns]
            rows = func.unnest(*arrays).table_valued(*self.columns).render_derived()
            values = [rows.c[c] for c in self.columns]
            values += [bindparam(c, type_=table[c].type) for c in self.constants]
            statement = upsert(
                session,
                self.model,
                key=self.key,
                changing=changing,
                also_set=self.also_set,
                source=(names, select(*values)),
            )
            compiled, order = statement.compile(dialect=dialect), None
        found = self._compiled[dialect.name] = (str(compiled), order)
        return found
