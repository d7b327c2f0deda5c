#!/usr/bin/env bash
# Benchmark of incremental runs (issue 4). Not a test: prints wall times and ratios.
#
#   bench/incremental.sh            # 50,000 articles + 1% new
#   ARTICLES=10000 bench/incremental.sh
#   KEEP=1 WORK=/tmp/bench bench/incremental.sh
#
# Steps: build a corpus with ../shared/bench/make_corpus.py; REPEAT rounds of
# a full run into a fresh --out, then adding 1% new articles (a second corpus
# with another seed, copied into new/) and re-running into the same --out;
# then re-runs with nothing new; medians of each. Last, the incremental
# tables are checked against a full run of the final corpus.
# Targets: 1% new <= 10% of the full run; nothing new <= 5%.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
SHARED=${SHARED:-$REPO/../shared}
ARTICLES=${ARTICLES:-50000}
NEW=${NEW:-$((ARTICLES / 100))}
REPEAT=${REPEAT:-3}
THREADS=${THREADS:-}
WORK=${WORK:-$(mktemp -d /tmp/anugerah-bench.XXXXXX)}
mkdir -p "$WORK"
: >"$WORK/times"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}

cargo build --release --quiet
BIN="$WORK/anugerah"
cp "$CARGO_TARGET_DIR/release/anugerah" "$BIN" # a copy others' builds cannot replace mid-run
ARGS=()
[ -n "$THREADS" ] && ARGS=(--threads "$THREADS")

if [ ! -d "$WORK/corpus" ]; then
  python3 "$SHARED/bench/make_corpus.py" --out "$WORK/corpus" --articles "$ARTICLES" "$SHARED/corpus/dev"
fi
rm -rf "$WORK/extra" "$WORK/corpus/new"
python3 "$SHARED/bench/make_corpus.py" --out "$WORK/extra" --articles "$NEW" --seed 8 "$SHARED/corpus/dev"
sleep 4 # files modified in the 3 s before a run are hashed again by the next run

now() { date +%s.%N; }
# timed OUT: runs anugerah into OUT, prints the summary to stderr and the wall time to stdout
# (and appends "wall cpu" to $WORK/times)
timed() {
  local t0 t1 line
  t0=$(now)
  line=$(/usr/bin/time -f "%U %S" -o "$WORK/cpu" "$BIN" run --corpus "$WORK/corpus" --out "$1" "${ARGS[@]}" "${@:2}")
  t1=$(now)
  local cpu wall
  cpu=$(awk '{print $1 + $2}' "$WORK/cpu")
  wall=$(echo "$t1 - $t0" | bc -l)
  echo "  $line (cpu ${cpu}s)" >&2
  echo "$wall $cpu" >>"$WORK/times"
  echo "$wall"
}
cpu_of() { grep "^$1 " "$WORK/times" | tail -1 | awk '{print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "corpus: $ARTICLES articles in $WORK/corpus; cores: $(nproc)" >&2
# Each round is what an analyst does: a full run into the output folder,
# then the new articles arrive and the job is run again on the same folder.
FULLS=()
ADDS=()
for i in $(seq "$REPEAT"); do
  rm -rf "$WORK/corpus/new" "$WORK/out-inc"
  echo "round $i: full run, then re-run after adding $NEW articles:" >&2
  FULLS+=("$(timed "$WORK/out-inc")")
  cp -r "$WORK/extra" "$WORK/corpus/new"
  sleep 4 # as if added a moment ago: not "racy" for the runs after (see RACY_WINDOW_NS)
  ADDS+=("$(timed "$WORK/out-inc")")
done
FULL=$(printf '%s\n' "${FULLS[@]}" | median)
ADD=$(printf '%s\n' "${ADDS[@]}" | median)

echo "re-run with nothing new ($REPEAT times):" >&2
SAMES=()
for i in $(seq "$REPEAT"); do
  SAMES+=("$(timed "$WORK/out-inc")")
done
SAME=$(printf '%s\n' "${SAMES[@]}" | median)

echo "check: full run of the final corpus into a fresh folder" >&2
rm -rf "$WORK/out-check"
timed "$WORK/out-check" >/dev/null
for t in mentions articles errors; do
  for ext in parquet csv; do
    cmp -s "$WORK/out-check/$t.$ext" "$WORK/out-inc/$t.$ext" || { echo "MISMATCH: $t.$ext" >&2; exit 1; }
  done
done
echo "  tables identical" >&2

FULL_CPU=$(cpu_of "$FULL"); ADD_CPU=$(cpu_of "$ADD"); SAME_CPU=$(cpu_of "$SAME")
printf 'cpu (user+sys): full %.2f s, 1%% new %.2f s (%.1f%%), no change %.2f s (%.1f%%)\n' \
  "$FULL_CPU" "$ADD_CPU" "$(echo "100 * $ADD_CPU / $FULL_CPU" | bc -l)" "$SAME_CPU" "$(echo "100 * $SAME_CPU / $FULL_CPU" | bc -l)"
printf 'full run:        %6.2f s\n' "$FULL"
printf '1%% new re-run:   %6.2f s  = %5.1f%% of full (target <= 10%%)\n' "$ADD" "$(echo "100 * $ADD / $FULL" | bc -l)"
printf 'no-change re-run:%6.2f s  = %5.1f%% of full (target <= 5%%)\n' "$SAME" "$(echo "100 * $SAME / $FULL" | bc -l)"
