#!/usr/bin/env python3
"""Extract award mentions from a JSON Lines corpus with PySpark and anugerah.

usage: spark_job.py --corpus DIR --bin PATH --out DIR [--master URL] [--partitions N]

Every .jsonl/.ndjson file under DIR is read with sc.textFile (split into
partitions), and each partition is piped through the anugerah binary:

    ./anugerah extract --jsonl - --source <path of the file under DIR> --threads 1

The binary is shipped to the executors with SparkContext.addFile (on a cluster
spark-submit --files /path/to/anugerah does the same) and run from the folder
it lands in. --source gives article ids
`<path>#<id>`, the ids `anugerah run --corpus DIR` gives, so the two outputs
can be compared row by row (check_match.py). The mention lines are parsed with
the schema of the mentions table and written as Parquet into --out.
"""
import argparse
import os
import shlex
import time
from pathlib import Path

from pyspark import SparkFiles
from pyspark.sql import SparkSession
from pyspark.sql.types import DateType, IntegerType, LongType, StringType, StructField, StructType

MENTIONS_SCHEMA = StructType([
    StructField("mention_id", StringType(), False),
    StructField("article_id", StringType(), False),
    StructField("program", StringType(), False),
    StructField("edition", IntegerType(), True),
    StructField("recipient", StringType(), False),
    StructField("recipient_raw", StringType(), False),
    StructField("recipient_level", StringType(), False),
    StructField("region_code", StringType(), True),
    StructField("category", StringType(), True),
    StructField("category_key", StringType(), True),
    StructField("group", StringType(), True),
    StructField("rank", IntegerType(), True),
    StructField("rank_text", StringType(), True),
    StructField("award_date", DateType(), True),
    StructField("date_text", StringType(), True),
    StructField("evidence", StringType(), False),
    StructField("start", LongType(), False),
    StructField("end", LongType(), False),
    StructField("rule", StringType(), False),
])


def jsonl_files(corpus):
    root = Path(corpus)
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and p.suffix.lower() in (".jsonl", ".ndjson") and not any(c.startswith(".") for c in rel.split("/")):
            yield p, rel


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--bin", required=True, help="the anugerah binary (static for a cluster)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--master", default=None, help="default: spark-submit's --master, else local[*]")
    ap.add_argument("--partitions", type=int, default=2, help="partitions per input file")
    a = ap.parse_args()

    builder = SparkSession.builder.appName("anugerah-extract")
    if a.master:
        builder = builder.master(a.master)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("WARN")
    started = time.time()

    binary = os.path.abspath(a.bin)
    sc.addFile(binary)
    name = os.path.basename(binary)
    # On a cluster's executors the Python worker runs in the folder where
    # addFile/--files put the binary; in local mode that folder is the
    # driver's SparkFiles root. The command tries the first, then the second.
    find_binary = f'b=./{name}; [ -x "$b" ] || b="$0"; exec "$b" "$@"'

    parts = []
    for path, rel in jsonl_files(a.corpus):
        cmd = shlex.join(["/bin/sh", "-c", find_binary, SparkFiles.get(name),
                          "extract", "--jsonl", "-", "--source", rel, "--threads", "1"])
        # checkCode: a failed extract fails the task (and Spark retries it).
        parts.append(sc.textFile(path.resolve().as_uri(), minPartitions=a.partitions).pipe(cmd, checkCode=True))
    if not parts:
        raise SystemExit(f"no .jsonl files under {a.corpus}")
    lines = sc.union(parts)
    mentions = spark.read.schema(MENTIONS_SCHEMA).option("mode", "FAILFAST").json(lines)
    mentions.write.mode("overwrite").parquet(a.out)

    written = spark.read.parquet(a.out)
    print(f"spark: {len(parts)} files, {lines.getNumPartitions()} partitions, "
          f"{written.count()} mentions written to {a.out} in {time.time() - started:.1f}s")
    written.groupBy("program").count().orderBy("count", ascending=False).show(10, truncate=False)
    spark.stop()


if __name__ == "__main__":
    main()
