#!/usr/bin/env bash
# make bench: generates the benchmark data (cached), measures, and prints one table.
#
#   parse      a generated 1,000,000-record report through rua's parser, and the bare
#              quick-xml event loop over the same bytes (the floor)
#   ingest     100,000 typical reports (1-50 records, .xml.gz and .zip) from files to committed
#              DuckDB rows; and the 1,000,000-record report
#   summaries  every `rua summary --by` over a 10,000,000-record database, and a full Parquet
#              export of report_records
#
# Wall time and peak RSS come from GNU time (`/usr/bin/time -v`). BENCH_QUICK=1 uses smaller
# inputs for a smoke run.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/rua-target}"
BIN="$CARGO_TARGET_DIR/release"
DATA="$CARGO_TARGET_DIR/bench-data"
TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
  apt-get install -y -qq time >/dev/null
fi

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  BIG=100000; TYPICAL=2000; DB_REPORTS=20; DB_RECORDS=50000; DATA="$DATA/quick"
else
  BIG=1000000; TYPICAL=100000; DB_REPORTS=200; DB_RECORDS=50000
fi
mkdir -p "$DATA"

cargo build --release --locked --quiet -p rua --bin rua && cargo build --release --locked --quiet -p rua-bench

# measure LABEL COMMAND...: prints "seconds peak_rss_bytes" of the command.
measure() {
  local log="$DATA/time.log"
  "$TIME" -v "$@" >/dev/null 2>"$log" || { status=$?; [ $status -le 1 ] || { cat "$log" >&2; exit $status; }; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2*1024}' "$log")
  echo "$wall $rss"
}

mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

# --- data (cached) -----------------------------------------------------------------------
BIG_XML="$DATA/big-$BIG.xml"
[ -f "$BIG_XML" ] || "$BIN/rua-gen" report --records "$BIG" --style google --seed 7 --out "$BIG_XML" 2>/dev/null
BIG_BYTES=$(stat -c %s "$BIG_XML")
TYPICAL_DIR="$DATA/typical-$TYPICAL"
if [ ! -f "$TYPICAL_DIR/.done" ]; then
  rm -rf "$TYPICAL_DIR"
  "$BIN/rua-gen" corpus --reports "$TYPICAL" --seed 11 --out "$TYPICAL_DIR" 2> "$DATA/typical.counts"
  touch "$TYPICAL_DIR/.done"
fi
SUMMARY_DB="$DATA/summary-$DB_REPORTS-$DB_RECORDS.duckdb"
if [ ! -f "$SUMMARY_DB" ]; then
  dir="$DATA/summary-inputs"; rm -rf "$dir"; mkdir -p "$dir"
  for i in $(seq 1 "$DB_REPORTS"); do
    styles=(google microsoft yahoo mailru gmx cisco amazonses)
    "$BIN/rua-gen" report --records "$DB_RECORDS" --style "${styles[$((i % 7))]}" --seed "$i" --out "$dir/r$i.xml" 2>/dev/null
  done
  "$BIN/rua" --db "$SUMMARY_DB" --quiet ingest --no-keep-raw "$dir"
  rm -rf "$dir"
fi

rows=()
row() { rows+=("$(printf '%-44s %12s %14s %10s' "$1" "$2" "$3" "$4")"); }

# --- parse: rua vs the bare quick-xml loop -----------------------------------------------
best() { # best of 3 runs of rua-bench parse: prints "seconds rss"
  local mode=$1 best_s=999999 best_rss=0
  for _ in 1 2 3; do
    read -r _ _ s _ rss _ < <("$BIN/rua-bench" parse "$BIG_XML" --mode "$mode")
    if awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then best_s=$s; best_rss=$rss; fi
  done
  echo "$best_s $best_rss"
}
read -r floor_s floor_rss < <(best floor)
read -r rua_s rua_rss < <(best rua)
floor_mbs=$(awk -v b="$BIG_BYTES" -v s="$floor_s" 'BEGIN { printf "%.0f", b / 1e6 / s }')
rua_mbs=$(awk -v b="$BIG_BYTES" -v s="$rua_s" 'BEGIN { printf "%.0f", b / 1e6 / s }')
ratio=$(awk -v a="$rua_mbs" -v b="$floor_mbs" 'BEGIN { printf "%.2f", a / b }')
row "parse $BIG records ($(mb "$BIG_BYTES") MiB): floor" "${floor_s}s" "$floor_mbs MB/s" "$(mb "$floor_rss") MiB"
row "parse $BIG records: rua (x$ratio of floor)" "${rua_s}s" "$rua_mbs MB/s" "$(mb "$rua_rss") MiB"

# --- ingest ------------------------------------------------------------------------------
db="$DATA/ingest.duckdb"; rm -f "$db" "$db.wal"
read -r s rss < <(measure "$BIN/rua" --db "$db" --quiet ingest "$TYPICAL_DIR")
n_records=$("$BIN/rua" --db "$db" sql --format csv "SELECT sum(n_records) FROM reports" | tail -1)
row "ingest $TYPICAL typical reports (gz+zip)" "${s}s" "$(rate "$TYPICAL" "$s") rep/s" "$(mb "$rss") MiB"
row "  ... records" "" "$(rate "$n_records" "$s") rec/s" ""
rm -f "$db" "$db.wal"
read -r s rss < <(measure "$BIN/rua" --db "$db" --quiet ingest "$BIG_XML")
row "ingest one $BIG-record report" "${s}s" "$(rate "$BIG" "$s") rec/s" "$(mb "$rss") MiB"
rm -f "$db" "$db.wal"

# --- summaries over the big database -----------------------------------------------------
n_db=$("$BIN/rua" --db "$SUMMARY_DB" sql --format csv "SELECT count(*) FROM records" | tail -1)
for by in ip net alignment domain reporter day disposition; do
  read -r s rss < <(measure "$BIN/rua" --db "$SUMMARY_DB" summary --by "$by" --limit 20 --format csv)
  row "summary --by $by ($n_db records)" "${s}s" "" "$(mb "$rss") MiB"
done
read -r s rss < <(measure "$BIN/rua" --db "$SUMMARY_DB" summary --format csv)
row "summary (default overview, $n_db records)" "${s}s" "" "$(mb "$rss") MiB"
out="$DATA/export.parquet"; rm -f "$out"
read -r s rss < <(measure "$BIN/rua" --db "$SUMMARY_DB" export --format parquet --output "$out")
row "export report_records to Parquet" "${s}s" "$(rate "$n_db" "$s") rows/s" "$(mb "$rss") MiB"

echo
echo "rua benchmarks on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d)"
printf '%-44s %12s %14s %10s\n' "workload" "wall" "throughput" "peak RSS"
for r in "${rows[@]}"; do echo "$r"; done
