#!/usr/bin/env python3
"""Three analyst questions over the tables of an anugerah run, answered with
polars, pandas (pyarrow) and DuckDB.

    cargo run --release -- run --corpus corpus --out output
    pip install polars pyarrow pandas duckdb
    python3 examples/analyst.py output
    python3 examples/analyst.py output --recipient "Kota Mataram" --program "BKN Award" --edition 2019

1. (polars) Which regencies and cities won the same BKN Award category in
   consecutive editions?
2. (pandas) How many awards did each province get per year (edition)?
3. (DuckDB) Which articles support a given award? By default the award
   reported by the most articles; choose one with --recipient/--program/
   --edition/--category.

An "award" is a row of the `summary` table (see docs/schema.md): mentions of
the same recipient, programme, edition and category, however many articles
report it.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq

HERE = pathlib.Path(__file__).resolve().parent
REGIONS_CSV = HERE.parent / "rules" / "gazetteer" / "regions.csv"


def heading(text: str) -> None:
    print()
    print(text)
    print("-" * len(text))


def question_1(out: pathlib.Path) -> None:
    """polars: same BKN Award category in consecutive editions."""
    heading("1. Regencies and cities that won the same BKN Award category in consecutive editions (polars)")
    summary = pl.read_parquet(out / "summary.parquet")
    bkn = summary.filter(
        (pl.col("program") == "BKN Award")
        & pl.col("recipient_level").is_in(["kabupaten", "kota"])
        & pl.col("category_key").is_not_null()
        & pl.col("edition").is_not_null()
    ).select("recipient", "region_code", "category_key", "category", "edition", "best_rank")
    nxt = bkn.select(
        "recipient",
        "region_code",
        "category_key",
        (pl.col("edition") - 1).alias("edition"),
        pl.col("edition").alias("next_edition"),
        pl.col("best_rank").alias("next_rank"),
    )
    pairs = (
        bkn.join(nxt, on=["recipient", "region_code", "category_key", "edition"], how="inner", nulls_equal=True)
        .select("recipient", "region_code", "category_key", "category", "edition", "next_edition", "best_rank", "next_rank")
        .sort("recipient", "category_key", "edition")
    )
    print(f"{bkn.height} BKN Award wins by regencies and cities in the table, over editions "
          f"{', '.join(str(e) for e in bkn['edition'].unique().sort().to_list()) or '-'}.")
    if pairs.is_empty():
        print("None: no regency or city won the same category in two consecutive editions in this corpus.")
        # The nearest thing: recipients with the same category in more than one edition.
        repeats = (
            bkn.group_by("recipient", "category_key")
            .agg(pl.col("edition").sort().alias("editions"))
            .filter(pl.col("editions").list.len() > 1)
            .sort("recipient", "category_key")
        )
        if not repeats.is_empty():
            print("Same category in non-consecutive editions:")
            with pl.Config(tbl_rows=50, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
                print(repeats)
    else:
        with pl.Config(tbl_rows=50, fmt_str_lengths=60, tbl_hide_dataframe_shape=True, tbl_width_chars=160):
            print(pairs)


def question_2(out: pathlib.Path) -> None:
    """pandas: awards per province per year."""
    heading("2. Awards per province per year (pandas with pyarrow)")
    summary = pd.read_parquet(out / "summary.parquet", dtype_backend="numpy_nullable")
    regions = pd.read_csv(REGIONS_CSV, dtype=str, keep_default_na=False)
    provinces = regions.loc[regions["level"] == "provinsi", ["code", "name"]].rename(columns={"code": "prov", "name": "province"})
    summary["prov"] = summary["region_code"].str.split(".").str[0]
    df = summary.merge(provinces, on="prov", how="left")
    df["province"] = df["province"].fillna("(national / no region)")
    df["year"] = df["edition"].astype("string").fillna("no edition")
    table = df.pivot_table(index="province", columns="year", values="recipient", aggfunc="count", fill_value=0)
    table["total"] = table.sum(axis=1)
    table = table.sort_values(["total"], ascending=False, kind="stable")
    print(f"{len(summary)} awards; year = the award's edition; rows sorted by total.")
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_rows", 100):
        print(table.to_string())


def question_3(out: pathlib.Path, args: argparse.Namespace) -> None:
    """DuckDB: articles supporting a given award."""
    heading("3. Articles that support a given award (DuckDB)")
    con = duckdb.connect()
    s, m, a = (str(out / f"{t}.parquet").replace("'", "''") for t in ("summary", "mentions", "articles"))
    filters, params = [], []
    for col, val in (("recipient", args.recipient), ("program", args.program), ("edition", args.edition)):
        if val is not None:
            filters.append(f"{col} = ?")
            params.append(val)
    if args.category is not None:
        filters.append("(category_key = ? OR lower(category) = lower(?))")
        params += [args.category, args.category]
    where = ("WHERE " + " AND ".join(filters)) if filters else ""
    award = con.execute(
        f"""SELECT * FROM '{s}' {where}
            ORDER BY articles DESC, mentions DESC, first_award_date NULLS LAST, recipient, program, edition
            LIMIT 1""",
        params,
    ).fetchdf()
    if award.empty:
        print("No award matches the filters.")
        return
    r = award.iloc[0]
    cat = r["category"] if pd.notna(r["category"]) else "(no category)"
    edition = int(r["edition"]) if pd.notna(r["edition"]) else "(no edition)"
    rank = int(r["best_rank"]) if pd.notna(r["best_rank"]) else "-"
    print(f"Award: {r['recipient']} | {r['program']} {edition} | {cat} | best rank {rank} | "
          f"{int(r['mentions'])} mention(s) in {int(r['articles'])} article(s)")
    # Back from the award to its mentions (null-safe on every key column; the
    # category text counts only when there is no category_key), then to articles.
    rows = con.execute(
        f"""
        WITH award AS (SELECT * FROM '{s}' {where}
                       ORDER BY articles DESC, mentions DESC, first_award_date NULLS LAST, recipient, program, edition
                       LIMIT 1)
        SELECT a.article_id, a.published, a.title, a.url, m.award_date, m.evidence
        FROM award s
        JOIN '{m}' m
          ON m.recipient = s.recipient
         AND m.region_code IS NOT DISTINCT FROM s.region_code
         AND m.recipient_level = s.recipient_level
         AND m.program = s.program
         AND m.edition IS NOT DISTINCT FROM s.edition
         AND m.category_key IS NOT DISTINCT FROM s.category_key
         AND (s.category_key IS NOT NULL
              OR lower(regexp_replace(trim(m.category), '\\s+', ' ', 'g')) IS NOT DISTINCT FROM lower(s.category))
        JOIN '{a}' a USING (article_id)
        ORDER BY a.published NULLS LAST, a.article_id, m.start
        """,
        params,
    ).fetchall()
    for article_id, published, title, url, award_date, evidence in rows:
        print(f"- {article_id}  published {published or '-'}  award date {award_date or '-'}")
        print(f"  title:    {title or '-'}")
        print(f"  url:      {url or '(none)'}")
        print(f"  evidence: {evidence}")
    if not rows:
        print("No supporting article found (unexpected: every award comes from at least one mention).")


def main() -> int:
    ap = argparse.ArgumentParser(description="Three analyst questions over anugerah tables.")
    ap.add_argument("out", nargs="?", default="output", type=pathlib.Path, help="output folder of `anugerah run`")
    ap.add_argument("--recipient", help="question 3: recipient name, e.g. 'Kota Mataram'")
    ap.add_argument("--program", help="question 3: programme, e.g. 'BKN Award'")
    ap.add_argument("--edition", type=int, help="question 3: edition, e.g. 2019")
    ap.add_argument("--category", help="question 3: category key or category text")
    args = ap.parse_args()
    for t in ("mentions", "articles", "summary"):
        if not (args.out / f"{t}.parquet").is_file():
            print(f"analyst.py: {args.out / (t + '.parquet')} is missing; run `anugerah run --out {args.out}` first", file=sys.stderr)
            return 1
    version = (pq.read_metadata(args.out / "summary.parquet").metadata or {}).get(b"schema_version", b"?").decode()
    print(f"anugerah tables in {args.out} (schema version {version})")
    question_1(args.out)
    question_2(args.out)
    question_3(args.out, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
