#!/usr/bin/env bash
# Throughput benchmark (issue 6). Not a test: prints medians and ratios.
#
#   bench/run.sh                       # 20,000 articles, 5 alternating rounds
#   ARTICLES=5000 ROUNDS=7 bench/run.sh
#   MODE=memory bench/run.sh           # peak RSS at two corpus sizes (MEM_SIZES)
#   KEEP=1 WORK=/tmp/bench bench/run.sh  # keep (and reuse) corpora and outputs
#
# Throughput mode builds a corpus with ../shared/bench/make_corpus.py, then
# runs, round after round and in this order:
#   rg -c -i 'penghargaan|award|anugerah' DIR      (floor: touch every byte once)
#   python3 ../shared/bench/baseline.py DIR OUT    (what an analyst would write)
#   anugerah run --full --threads 2
#   anugerah run --full --threads 1
#   taskset -c 0 anugerah run --full --threads 1   (one core in all)
#   anugerah run --full --threads 2 --rules NO-MENTION-RULES
# The last is the floor of the design: rules whose only programme and only
# category can never match, so no article is extracted and what is left is
# reading, decoding, HTML parsing, hashing, the article prefilter and the
# tables. Extraction of the real rules costs the difference.
# and prints, per command, the median wall time, MB/s, articles/s, median cpu
# (user+sys) and peak RSS, then the ratios of the issue: anugerah (2 threads)
# vs the Python baseline, vs ripgrep's throughput, and 2 cores vs 1 core.
# `--threads` sets the extraction workers; the table and state writers run on
# threads of their own, so `--threads 1` alone still uses some of the second
# core and understates the scaling: the 1-core run pins the process instead.
# The machine's load average is printed too: on a shared machine other
# processes take cores, and the thread scaling figure then says little.
#
# Memory mode runs, per size in MEM_SIZES (default 60000 and 240000
# articles, about 0.25 and 1 GB), `anugerah run --full`, then an incremental
# re-run after one new file (in a folder of its own, removed afterwards: the
# re-run merges the new rows with every carried row), and prints their peak
# RSS ("Maximum resident set size" of /usr/bin/time -v); then the peak RSS
# of a full run over the corpus's JSON Lines records put into one dump.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
SHARED=${SHARED:-$REPO/../shared}
ARTICLES=${ARTICLES:-20000}
ROUNDS=${ROUNDS:-5}
MODE=${MODE:-throughput}
MEM_SIZES=${MEM_SIZES:-"60000 240000"}
WORK=${WORK:-$(mktemp -d /tmp/anugerah-bench.XXXXXX)}
mkdir -p "$WORK"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}

need_apt() { # need_apt CMD PACKAGE: installs PACKAGE with apt-get when CMD is missing
  command -v "$1" >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq "$2") >/dev/null 2>&1 || true
  fi
  command -v "$1" >/dev/null 2>&1
}
if [ ! -x /usr/bin/time ]; then
  need_apt /usr/bin/time time || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
fi
if [ "$MODE" = throughput ]; then
  if ! need_apt rg ripgrep; then
    cargo install ripgrep --quiet && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  python3 -c 'import pandas, pyarrow' 2>/dev/null || python3 -m pip install --quiet pandas pyarrow \
    || python3 -m pip install --quiet --break-system-packages pandas pyarrow
fi

cargo build --release --quiet
BIN="$WORK/anugerah"
cp "$CARGO_TARGET_DIR/release/anugerah" "$BIN" # a copy others' builds cannot replace mid-run

corpus() { # corpus N: path of a corpus of N articles, built once
  local dir="$WORK/corpus-$1"
  if [ ! -d "$dir" ]; then
    python3 "$SHARED/bench/make_corpus.py" --out "$dir.tmp" --articles "$1" "$SHARED/corpus/dev" >&2
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
# measure NAME CMD...: runs CMD once, appends "wall cpu rss_kb" to $WORK/m.NAME
measure() {
  local name=$1 t0 t1
  shift
  t0=$(now)
  /usr/bin/time -v -o "$WORK/time.out" "$@" >"$WORK/cmd.out" 2>"$WORK/cmd.err" || {
    echo "bench: $name failed:" >&2
    cat "$WORK/cmd.err" >&2
    exit 1
  }
  t1=$(now)
  local cpu rss
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$WORK/time.out")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.out")
  echo "$(echo "$t1 - $t0" | bc -l) $cpu $rss" >>"$WORK/m.$name"
}
col() { awk -v c="$2" '{print $c}' "$WORK/m.$1" | median; }

if [ "$MODE" = memory ]; then
  echo "memory mode: peak RSS of anugerah run --full, then of a re-run after one new file, at $MEM_SIZES articles; cores: $(nproc)"
  printf '%-10s %9s %9s %10s %10s %12s %10s %12s\n' articles MB files wall_s cpu_s peak_rss_MB rerun_s rerun_rss_MB
  for n in $MEM_SIZES; do
    dir=$(corpus "$n")
    mb=$(du -sm --apparent-size "$dir" | cut -f1)
    files=$(find "$dir" -type f | wc -l)
    rm -f "$WORK/m.mem$n" "$WORK/m.rerun$n"
    rm -rf "$WORK/out-mem" "$dir/zz-bench-new"
    measure "mem$n" "$BIN" run --full --corpus "$dir" --out "$WORK/out-mem"
    mkdir "$dir/zz-bench-new"
    cp "$(find "$dir" -name '*.txt' | head -1)" "$dir/zz-bench-new/new.txt"
    measure "rerun$n" "$BIN" run --corpus "$dir" --out "$WORK/out-mem"
    rm -rf "$dir/zz-bench-new"
    printf '%-10s %9s %9s %10.2f %10.2f %12.1f %10.2f %12.1f\n' "$n" "$mb" "$files" "$(col "mem$n" 1)" "$(col "mem$n" 2)" \
      "$(echo "$(col "mem$n" 3) / 1024" | bc -l)" "$(col "rerun$n" 1)" "$(echo "$(col "rerun$n" 3) / 1024" | bc -l)"
    # The same corpus's JSON Lines records as one dump (read a part at a time).
    rm -rf "$WORK/dump-$n" "$WORK/out-dump"
    mkdir -p "$WORK/dump-$n"
    cat "$dir"/jsonl/*.jsonl >"$WORK/dump-$n/all.jsonl"
    dmb=$(du -sm --apparent-size "$WORK/dump-$n" | cut -f1)
    rm -f "$WORK/m.dump$n"
    measure "dump$n" "$BIN" run --full --corpus "$WORK/dump-$n" --out "$WORK/out-dump"
    printf '  one JSON Lines dump of its %s records, %s MB: %.2f s, peak RSS %.1f MB\n' \
      "$(wc -l <"$WORK/dump-$n/all.jsonl")" "$dmb" "$(col "dump$n" 1)" "$(echo "$(col "dump$n" 3) / 1024" | bc -l)"
    rm -rf "$WORK/dump-$n"
    [ -n "${KEEP:-}" ] || rm -rf "$dir"
  done
  exit 0
fi

DIR=$(corpus "$ARTICLES")
BYTES=$(du -sb --apparent-size "$DIR" | cut -f1)
MB=$(echo "$BYTES / 1000000" | bc -l)
echo "corpus: $ARTICLES articles, $(printf '%.1f' "$MB") MB in $DIR; cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$WORK"/m.*
NONE="$WORK/no-mention-rules"
mkdir -p "$NONE"
printf '[[program]]\nname = "None"\npatterns = [%s]\n' "'never-matches-zq'" >"$NONE/programs.toml"
printf '[[category]]\nkey = "manajemen_asn"\npatterns = [%s]\n' "'never-matches-zq'" >"$NONE/categories.toml"
for r in $(seq 1 "$ROUNDS"); do
  measure rg rg -c -i 'penghargaan|award|anugerah' "$DIR"
  rm -rf "$WORK/out-py"
  measure baseline python3 "$SHARED/bench/baseline.py" "$DIR" "$WORK/out-py"
  measure anugerah-2t "$BIN" run --full --threads 2 --corpus "$DIR" --out "$WORK/out-2"
  measure anugerah-1t "$BIN" run --full --threads 1 --corpus "$DIR" --out "$WORK/out-1"
  measure anugerah-1c taskset -c 0 "$BIN" run --full --threads 1 --corpus "$DIR" --out "$WORK/out-1c"
  measure floor "$BIN" run --full --threads 2 --rules "$NONE" --corpus "$DIR" --out "$WORK/out-floor"
  echo "  round $r/$ROUNDS: rg $(tail -1 "$WORK/m.rg" | cut -d' ' -f1 | xargs printf '%.2f')s," \
    "baseline $(tail -1 "$WORK/m.baseline" | cut -d' ' -f1 | xargs printf '%.2f')s," \
    "anugerah 2t $(tail -1 "$WORK/m.anugerah-2t" | cut -d' ' -f1 | xargs printf '%.2f')s," \
    "1t $(tail -1 "$WORK/m.anugerah-1t" | cut -d' ' -f1 | xargs printf '%.2f')s," \
    "1 core $(tail -1 "$WORK/m.anugerah-1c" | cut -d' ' -f1 | xargs printf '%.2f')s," \
    "floor $(tail -1 "$WORK/m.floor" | cut -d' ' -f1 | xargs printf '%.2f')s"
done
for t in csv parquet; do
  for f in "$WORK"/out-2/*."$t"; do
    cmp -s "$f" "$WORK/out-1/$(basename "$f")" || echo "WARNING: $(basename "$f") differs between 1 and 2 threads"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "medians of $ROUNDS alternating rounds:"
printf '%-13s %9s %9s %12s %9s %12s\n' command wall_s MB/s articles/s cpu_s peak_rss_MB
for name in rg baseline anugerah-2t anugerah-1t anugerah-1c floor; do
  w=$(col "$name" 1)
  printf '%-13s %9.3f %9.1f %12.0f %9.2f %12.1f\n' "$name" "$w" "$(echo "$MB / $w" | bc -l)" \
    "$(echo "$ARTICLES / $w" | bc -l)" "$(col "$name" 2)" "$(echo "$(col "$name" 3) / 1024" | bc -l)"
done
a2=$(col anugerah-2t 1)
a1=$(col anugerah-1t 1)
echo
printf 'anugerah (2 threads) vs Python baseline: %.2fx faster   (target >= 10x)\n' "$(echo "$(col baseline 1) / $a2" | bc -l)"
printf 'anugerah (2 threads) vs ripgrep throughput: %.1f%%      (target >= 25%%)\n' "$(echo "100 * $(col rg 1) / $a2" | bc -l)"
a1c=$(col anugerah-1c 1)
printf '2 cores vs 1 core:     %.2fx                   (target >= 1.7x; --threads 1 pinned to one core with taskset)\n' "$(echo "$a1c / $a2" | bc -l)"
printf '2 threads vs 1 thread: %.2fx                   (--threads 1 unpinned: the table and state writers still use the other core)\n' "$(echo "$a1 / $a2" | bc -l)"
printf '2 threads vs 1 thread, cpu time: %.2f s vs %.2f s\n' "$(col anugerah-2t 2)" "$(col anugerah-1t 2)"
fl=$(col floor 1)
printf 'floor (no-mention rules, nothing extracted): %.2fx the baseline, %.1f%% of ripgrep; extraction is %.0f%% of the 2-thread wall time\n' \
  "$(echo "$(col baseline 1) / $fl" | bc -l)" "$(echo "100 * $(col rg 1) / $fl" | bc -l)" "$(echo "100 * ($a2 - $fl) / $a2" | bc -l)"
