#!/usr/bin/env bash
# End to end: build anugerah, generate a JSON Lines corpus, extract it with
# PySpark (local mode, the binary piped per partition), run `anugerah run`
# over the same corpus, and check that both give the same mention rows.
#
#   examples/spark/run.sh                 # ~3,500 records, local[2]
#   ARTICLES=20000 MASTER='local[4]' examples/spark/run.sh
#
# Needs Java 17+ and python3; installs pyspark and pyarrow with pip when missing.
# WORK=DIR keeps the files there (default: a fresh folder under /tmp).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=$ROOT/../shared
ARTICLES=${ARTICLES:-5000}
MASTER=${MASTER:-local[2]}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/anugerah-spark.XXXXXX")}
mkdir -p "$WORK"

step() { printf '\n== %s\n' "$*"; }

step "tools"
java -version 2>&1 | head -1
python3 -c 'import pyspark, pyarrow' 2>/dev/null || python3 -m pip install --quiet pyspark pyarrow
python3 -c 'import pyspark, pyarrow; print("pyspark", pyspark.__version__, "/ pyarrow", pyarrow.__version__)'

step "build"
if [ -n "${ANUGERAH_BIN:-}" ]; then
    BIN=$ANUGERAH_BIN
else
    (cd "$ROOT" && cargo build --release --quiet)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/anugerah
fi
# Ship a stripped copy: the release build keeps line tables (~400 MB).
cp "$BIN" "$WORK/anugerah"
strip "$WORK/anugerah" 2>/dev/null || true
ls -l "$WORK/anugerah"

step "corpus"
rm -rf "$WORK/gen" "$WORK/corpus"
if [ -f "$SHARED/bench/make_corpus.py" ] && [ -d "$SHARED/corpus/dev" ]; then
    # Articles stitched from the dev corpus; a third carry award sentences.
    python3 "$SHARED/bench/make_corpus.py" --out "$WORK/gen" --articles "$ARTICLES" --award-share 0.3 "$SHARED/corpus/dev"
    python3 "$HERE/make_jsonl_corpus.py" --out "$WORK/corpus" "$WORK/gen/txt" "$WORK/gen/jsonl"
else
    # No shared/ here: the bundled corpus, repeated.
    python3 "$HERE/make_jsonl_corpus.py" --out "$WORK/corpus" --repeat 150 "$ROOT/corpus"
fi

rm -rf "$WORK/anugerah-out" "$WORK/spark-mentions"

step "anugerah run (single machine reference)"
"$WORK/anugerah" run --corpus "$WORK/corpus" --out "$WORK/anugerah-out" --full

step "spark ($MASTER): RDD.pipe through anugerah extract --jsonl -"
python3 "$HERE/spark_job.py" --corpus "$WORK/corpus" --bin "$WORK/anugerah" --out "$WORK/spark-mentions" --master "$MASTER" 2>"$WORK/spark.log" \
    || { tail -40 "$WORK/spark.log"; exit 1; }

step "check"
python3 "$HERE/check_match.py" "$WORK/spark-mentions" "$WORK/anugerah-out"
echo "files in $WORK"
