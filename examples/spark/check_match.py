#!/usr/bin/env python3
"""Check that the Spark job's mentions match `anugerah run` over the same corpus.

usage: check_match.py SPARK_PARQUET_DIR ANUGERAH_OUT_DIR

Compares the mention rows of the Spark output (a folder of Parquet part
files) with ANUGERAH_OUT_DIR/mentions.parquet: same columns, and the same
multiset of rows (every column; order ignored). Exit status 0 when they match.
"""
import sys
from collections import Counter

import pyarrow.dataset as ds
import pyarrow.parquet as pq


def rows(table):
    cols = table.column_names
    data = table.to_pydict()
    return cols, Counter(tuple(data[c][i] for c in cols) for i in range(table.num_rows))


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    spark_cols, spark = rows(ds.dataset(sys.argv[1], format="parquet").to_table())
    ref_cols, ref = rows(pq.read_table(f"{sys.argv[2]}/mentions.parquet"))
    print(f"spark:    {sum(spark.values())} mention rows, {len(spark_cols)} columns")
    print(f"anugerah: {sum(ref.values())} mention rows, {len(ref_cols)} columns")
    ok = True
    if spark_cols != ref_cols:
        print(f"columns differ:\n  spark:    {spark_cols}\n  anugerah: {ref_cols}")
        ok = False
    else:
        only_spark, only_ref = spark - ref, ref - spark
        for name, extra in (("only in spark", only_spark), ("only in anugerah", only_ref)):
            if extra:
                ok = False
                print(f"{sum(extra.values())} rows {name}, e.g.:")
                for r in list(extra)[:3]:
                    print("  ", dict(zip(ref_cols, r)))
    print("MATCH: same mention rows (all columns, order ignored)" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
