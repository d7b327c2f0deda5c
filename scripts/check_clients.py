#!/usr/bin/env python3
"""Reads every table of an anugerah run with the real clients and checks it
against docs/schema.md.

    python3 scripts/check_clients.py OUT_DIR [--schema docs/schema.md] [--no-install]

For each table (mentions, articles, errors, summary) it reads the Parquet and
the CSV file with polars, pyarrow/pandas and DuckDB and asserts:

- the Parquet key-value metadata holds `schema_version` (the version in
  docs/schema.md) and `table`;
- the column names and their order are those of docs/schema.md;
- the types: Date stays a date, Int32 stays a 32-bit integer (Int64 a 64-bit
  one), String stays text, in every client (pandas with a nullable backend);
- nulls stay nulls: every client counts the same nulls per column, and
  columns documented as not nullable have none;
- CSV read with the documented types gives the same rows as Parquet, and CSV
  read with plain inference still gives dates for date columns and integers
  for integer columns (when the column has values).

Installs polars, pyarrow, pandas and duckdb with pip when one is missing
(unless --no-install). Exits 1 when a check fails, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import pathlib
import re
import subprocess
import sys
import time

CLIENTS = ["polars", "pyarrow", "pandas", "duckdb"]
TABLES = ["mentions", "articles", "errors", "summary"]


def ensure_clients(install: bool) -> None:
    missing = []
    for name in CLIENTS:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if not missing:
        return
    if not install:
        sys.exit(f"check_clients: missing Python packages: {' '.join(missing)}")
    print(f"check_clients: pip install {' '.join(missing)}", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *missing], check=True)
    importlib.invalidate_caches()


def parse_schema(path: pathlib.Path) -> tuple[str, dict[str, list[tuple[str, str, bool]]]]:
    """(version, {table: [(column, type, nullable)]}) from docs/schema.md."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^Schema version: \*\*(\S+?)\*\*", text, re.M)
    if not m:
        sys.exit(f"check_clients: {path}: no 'Schema version: **N**' line")
    version = m.group(1)
    tables: dict[str, list[tuple[str, str, bool]]] = {}
    current = None
    for line in text.splitlines():
        h = re.match(r"^## `(\w+)`\s*$", line)
        if h:
            current = h.group(1)
            tables[current] = []
            continue
        if line.startswith("## "):
            current = None
            continue
        row = re.match(r"^\| `(\w+)` \| (String|Int32|Int64|Date) \| (yes|no) \|", line)
        if current and row:
            tables[current].append((row.group(1), row.group(2), row.group(3) == "yes"))
    for t in TABLES:
        if not tables.get(t):
            sys.exit(f"check_clients: {path}: no column table for `{t}`")
    return version, tables


class Checker:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.checks = 0

    def check(self, ok: bool, what: str) -> None:
        self.checks += 1
        if not ok:
            self.failures.append(what)
            print(f"  FAIL {what}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=pathlib.Path, help="output folder of `anugerah run`")
    ap.add_argument("--schema", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parent.parent / "docs" / "schema.md")
    ap.add_argument("--no-install", action="store_true", help="fail instead of installing missing packages")
    args = ap.parse_args()
    started = time.time()

    ensure_clients(not args.no_install)
    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    version, schema = parse_schema(args.schema)
    print(
        f"check_clients: schema version {version}; polars {pl.__version__}, pyarrow {pa.__version__}, "
        f"pandas {pd.__version__}, duckdb {duckdb.__version__}",
        flush=True,
    )
    c = Checker()
    con = duckdb.connect()

    PL = {"String": pl.String, "Int32": pl.Int32, "Int64": pl.Int64, "Date": pl.Date}
    DUCK = {"String": "VARCHAR", "Int32": "INTEGER", "Int64": "BIGINT", "Date": "DATE"}
    PA_OK = {
        "String": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or getattr(pa.types, "is_string_view", lambda _: False)(t),
        "Int32": pa.types.is_int32,
        "Int64": pa.types.is_int64,
        "Date": pa.types.is_date32,
    }
    PD_NULLABLE = {"Int32": pd.Int32Dtype(), "Int64": pd.Int64Dtype()}
    INT_DUCK = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}

    def q(path: pathlib.Path) -> str:
        return "'" + str(path).replace("'", "''") + "'"

    for table in TABLES:
        cols = schema[table]
        names = [n for n, _, _ in cols]
        types = {n: t for n, t, _ in cols}
        pq_path = args.out / f"{table}.parquet"
        csv_path = args.out / f"{table}.csv"
        print(f"== {table}", flush=True)
        if not pq_path.is_file() or not csv_path.is_file():
            c.check(False, f"{table}: {pq_path.name} or {csv_path.name} missing in {args.out}")
            continue

        # --- Parquet, polars: the reference frame.
        ref = pl.read_parquet(pq_path)
        c.check(ref.columns == names, f"{table}.parquet polars columns {ref.columns} != {names}")
        for n, t, nullable in cols:
            if n not in ref.columns:
                continue
            c.check(ref.schema[n] == PL[t], f"{table}.parquet polars {n}: {ref.schema[n]} != {PL[t]}")
            if not nullable:
                c.check(ref[n].null_count() == 0, f"{table}.parquet {n}: {ref[n].null_count()} nulls in a non-nullable column")
        nulls = {n: ref[n].null_count() for n in ref.columns}
        rows = ref.height

        # --- Parquet metadata.
        meta = pq.read_metadata(pq_path).metadata or {}
        c.check(meta.get(b"schema_version") == version.encode(), f"{table}.parquet schema_version {meta.get(b'schema_version')!r} != {version!r}")
        c.check(meta.get(b"table") == table.encode(), f"{table}.parquet table key {meta.get(b'table')!r}")
        kv = dict(con.execute(f"SELECT key::VARCHAR, value::VARCHAR FROM parquet_kv_metadata({q(pq_path)})").fetchall())
        c.check(kv.get("schema_version") == version, f"{table}.parquet duckdb parquet_kv_metadata schema_version {kv.get('schema_version')!r}")

        # --- Parquet, pyarrow.
        at = pq.read_table(pq_path)
        c.check(at.column_names == names, f"{table}.parquet pyarrow columns {at.column_names}")
        for n in names:
            if n in at.column_names:
                f = at.schema.field(n)
                c.check(PA_OK[types[n]](f.type), f"{table}.parquet pyarrow {n}: {f.type} is not {types[n]}")
                c.check(at.column(n).null_count == nulls.get(n), f"{table}.parquet pyarrow {n}: {at.column(n).null_count} nulls != {nulls.get(n)}")

        # --- Parquet, pandas (both nullable backends).
        pdf = pd.read_parquet(pq_path, dtype_backend="numpy_nullable")
        c.check(list(pdf.columns) == names, f"{table}.parquet pandas columns {list(pdf.columns)}")
        for n in names:
            if n not in pdf.columns:
                continue
            t, s = types[n], pdf[n]
            if t in PD_NULLABLE:
                c.check(s.dtype == PD_NULLABLE[t], f"{table}.parquet pandas {n}: {s.dtype} != {PD_NULLABLE[t]}")
            elif t == "Date":
                vals = s.dropna()
                ok = all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in vals) or pd.api.types.is_datetime64_any_dtype(s)
                c.check(ok, f"{table}.parquet pandas {n}: {s.dtype} does not hold dates")
            else:
                c.check(pd.api.types.is_string_dtype(s) or s.dtype == object, f"{table}.parquet pandas {n}: {s.dtype} is not text")
            c.check(int(s.isna().sum()) == nulls[n], f"{table}.parquet pandas {n}: {int(s.isna().sum())} nulls != {nulls[n]}")
        adf = pd.read_parquet(pq_path, dtype_backend="pyarrow")
        for n in names:
            if n in adf.columns:
                at_type = getattr(adf[n].dtype, "pyarrow_dtype", None)
                c.check(at_type is not None and PA_OK[types[n]](at_type), f"{table}.parquet pandas[pyarrow] {n}: {adf[n].dtype}")

        # --- Parquet, DuckDB.
        def duck_columns(source, label):
            """DuckDB sees the documented columns, in order, with their types."""
            desc = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            c.check([d[0] for d in desc] == names, f"{label} columns {[d[0] for d in desc]}")
            for d in desc:
                if d[0] in types:
                    c.check(d[1] == DUCK[types[d[0]]], f"{label} {d[0]}: {d[1]} != {DUCK[types[d[0]]]}")

        duck_columns(f"read_parquet({q(pq_path)})", f"{table}.parquet duckdb")
        counts = con.execute(
            "SELECT count(*), " + ", ".join(f'count(*) - count("{n}")' for n in names) + f" FROM read_parquet({q(pq_path)})"
        ).fetchone()
        c.check(counts[0] == rows, f"{table}.parquet duckdb rows {counts[0]} != {rows}")
        for n, k in zip(names, counts[1:]):
            c.check(k == nulls.get(n), f"{table}.parquet duckdb {n}: {k} nulls != {nulls.get(n)}")

        # --- CSV, polars, with the documented types: same frame as Parquet.
        overrides = {n: PL[t] for n, t, _ in cols}
        pcsv = pl.read_csv(csv_path, schema_overrides=overrides)
        c.check(pcsv.columns == names, f"{table}.csv polars columns {pcsv.columns}")
        c.check(pcsv.schema == ref.schema, f"{table}.csv polars typed schema {dict(pcsv.schema)} != {dict(ref.schema)}")
        c.check(pcsv.equals(ref), f"{table}.csv polars (typed) rows differ from {table}.parquet")

        # --- CSV, polars, plain inference: dates and integers survive.
        inf = pl.read_csv(csv_path, try_parse_dates=True)
        for n, t, _ in cols:
            if n not in inf.columns:
                continue
            c.check(inf[n].null_count() == nulls[n], f"{table}.csv polars (inferred) {n}: {inf[n].null_count()} nulls != {nulls[n]}")
            if nulls[n] == rows:
                continue  # all empty: nothing to infer from
            if t == "Date":
                c.check(inf.schema[n] == pl.Date, f"{table}.csv polars try_parse_dates {n}: {inf.schema[n]} is not Date")
            elif t in ("Int32", "Int64"):
                c.check(inf.schema[n].is_integer(), f"{table}.csv polars (inferred) {n}: {inf.schema[n]} is not an integer")

        # --- CSV, pandas, with the documented types.
        pd_dtypes = {n: ("string" if t == "String" else str(PD_NULLABLE[t])) for n, t, _ in cols if t != "Date"}
        dates = [n for n, t, _ in cols if t == "Date"]
        pcsv_pd = pd.read_csv(csv_path, dtype=pd_dtypes, parse_dates=dates, keep_default_na=False, na_values=[""])
        c.check(list(pcsv_pd.columns) == names, f"{table}.csv pandas columns {list(pcsv_pd.columns)}")
        for n, t, _ in cols:
            if n not in pcsv_pd.columns:
                continue
            s = pcsv_pd[n]
            if t in PD_NULLABLE:
                c.check(s.dtype == PD_NULLABLE[t], f"{table}.csv pandas {n}: {s.dtype} != {PD_NULLABLE[t]}")
            elif t == "Date":
                c.check(pd.api.types.is_datetime64_any_dtype(s) or nulls[n] == rows, f"{table}.csv pandas parse_dates {n}: {s.dtype}")
            c.check(int(s.isna().sum()) == nulls[n], f"{table}.csv pandas {n}: {int(s.isna().sum())} nulls != {nulls[n]}")
            if t != "Date":
                same = [None if pd.isna(v) else v for v in s.tolist()] == ref[n].to_list()
                c.check(same, f"{table}.csv pandas {n}: values differ from {table}.parquet")

        # --- CSV, DuckDB, with the documented types: same rows as Parquet.
        duck_types = "{" + ", ".join(f"'{n}': '{DUCK[t]}'" for n, t, _ in cols) + "}"
        typed = f"read_csv({q(csv_path)}, header = true, types = {duck_types})"
        duck_columns(typed, f"{table}.csv duckdb (typed)")
        diff = con.execute(
            f"SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet({q(pq_path)}) EXCEPT ALL SELECT * FROM {typed})),"
            f"       (SELECT count(*) FROM (SELECT * FROM {typed} EXCEPT ALL SELECT * FROM read_parquet({q(pq_path)})))"
        ).fetchone()
        c.check(diff == (0, 0), f"{table}.csv duckdb (typed) rows differ from {table}.parquet: {diff}")

        # --- CSV, DuckDB, auto-detection.
        auto = f"read_csv({q(csv_path)}, header = true)"
        desc = dict((d[0], d[1]) for d in con.execute(f"DESCRIBE SELECT * FROM {auto}").fetchall())
        counts = con.execute("SELECT " + ", ".join(f'count(*) - count("{n}")' for n in names) + f" FROM {auto}").fetchone()
        for (n, t, _), k in zip(cols, counts):
            c.check(k == nulls[n], f"{table}.csv duckdb (auto) {n}: {k} nulls != {nulls[n]}")
            if nulls[n] == rows or n not in desc:
                continue
            if t == "Date":
                c.check(desc[n] == "DATE", f"{table}.csv duckdb auto-detect {n}: {desc[n]} is not DATE")
            elif t in ("Int32", "Int64"):
                c.check(desc[n] in INT_DUCK, f"{table}.csv duckdb auto-detect {n}: {desc[n]} is not an integer")

        print(f"   {rows} rows, {len(names)} columns: polars, pyarrow, pandas, duckdb read Parquet and CSV", flush=True)

    took = time.time() - started
    if c.failures:
        print(f"check_clients: {len(c.failures)} of {c.checks} checks FAILED in {took:.1f}s")
        return 1
    print(f"check_clients: {c.checks} checks passed in {took:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
