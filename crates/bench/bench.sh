#!/usr/bin/env bash
# make bench: generates the benchmark data (cached), measures, and prints one table.
#
#   parse      a generated 1,000,000-record report through rua's parser, and the bare
#              quick-xml event loop over the same bytes (the floor), streamed from the file
#              and in memory
#   ingest     100,000 typical reports (1-50 records, .xml.gz and .zip) from files to committed
#              DuckDB rows, then the same files again (all duplicates); and the
#              1,000,000-record report. After each, the store floor: the
#              same rows copied by DuckDB alone from memory into a new database, both cores
#              (rua-store-floor), the lower bound of any ingest into DuckDB here, and for the
#              typical reports the unpack+tokenize floor (rua-bench files) and both floors'
#              CPU spread over the cores: the least any ingest of them costs here. Then the
#              corpus into a new database and an ingest with nothing new, with their floors
#   summaries  every `rua summary --by`, `rua policy` and `rua report` over a 10,000,000-record
#              database, and a full Parquet export of report_records
#   enrich     100,000 distinct addresses against a local dnsmasq that answers 90% (PTR and
#              forward) and forwards 10% to a socket that never answers (2 s timeout); then
#              again with everything kept; and the typical ingest with --no-enrich
#   versus     rua and parsedmarc (from PyPI, in a venv made here, offline, CSV output) on
#              the same inputs: 10,000 typical report files, a 100,000-record report,
#              10,000 report mails in an mbox, and an IMAP fetch of 10,000 mails from a local
#              Dovecot. parsedmarc reads about 40 reports a second here, so it gets the first
#              PM_SAMPLE of each (default 2,000; 1,000 over IMAP) and the ratio compares
#              throughputs; PM_SAMPLE=all gives it everything.
#
# Wall time and peak RSS come from GNU time (`/usr/bin/time -v`). BENCH_QUICK=1 uses smaller
# inputs for a smoke run.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/rua-target}"
BIN="$CARGO_TARGET_DIR/release"
DATA="$CARGO_TARGET_DIR/bench-data"
TIME=/usr/bin/time
if [ ! -x "$TIME" ] || ! command -v strace >/dev/null; then
  apt-get install -y -qq time strace >/dev/null
fi

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  BIG=100000; TYPICAL=2000; DB_REPORTS=20; DB_RECORDS=50000; DATA="$DATA/quick"
  VERSUS=500; MID=20000; PM_SAMPLE=${PM_SAMPLE:-100}; PM_IMAP=${PM_IMAP:-100}
else
  BIG=1000000; TYPICAL=100000; DB_REPORTS=200; DB_RECORDS=50000
  VERSUS=10000; MID=100000; PM_SAMPLE=${PM_SAMPLE:-2000}; PM_IMAP=${PM_IMAP:-1000}
fi
[ "$PM_SAMPLE" = all ] && { PM_SAMPLE=$VERSUS; PM_IMAP=$VERSUS; }
PM_VERSION=11.1.0
mkdir -p "$DATA"
# No DNS unless a benchmark starts its own server: ingest enriches offline after its commit.
export RUA_OFFLINE=1

cargo build --release --locked --quiet -p rua --bin rua && cargo build --release --locked --quiet -p rua-bench

# measure LABEL COMMAND...: prints "seconds peak_rss_bytes" of the command.
measure() {
  local log="$DATA/time.log"
  "$TIME" -v "$@" >/dev/null 2>"$log" || { status=$?; [ $status -le 1 ] || [ $status = 5 ] || [ $status = 124 ] || { cat "$log" >&2; exit $status; }; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2*1024}' "$log")
  echo "$wall $rss"
}

# best_of N COMMAND...: the fastest of N runs of COMMAND, which prints "seconds rss" (as
# measure does).
best_of() {
  local n=$1 best="999999 0" s rss; shift
  for _ in $(seq "$n"); do
    read -r s rss < <("$@")
    if awk -v a="$s" -v b="${best% *}" 'BEGIN { exit !(a < b) }'; then best="$s $rss"; fi
  done
  echo "$best"
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
# Enriching it once migrates it, recreates its views and stores every record's sender and
# class (as the enrichment after an ingest does), so a database generated by an older rua
# gets this one's (the lake's copy of it, and every summary).
"$BIN/rua" --db "$SUMMARY_DB" --quiet enrich --offline
n_db=$("$BIN/rua" --db "$SUMMARY_DB" sql --format csv "SELECT count(*) FROM records" | tail -1)

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
# In memory, as ingest parses payloads up to 8 MiB (the RSS includes the input).
read -r mfloor_s _ < <(best floor-in-memory)
read -r mrua_s _ < <(best rua-in-memory)
mfloor_mbs=$(awk -v b="$BIG_BYTES" -v s="$mfloor_s" 'BEGIN { printf "%.0f", b / 1e6 / s }')
mrua_mbs=$(awk -v b="$BIG_BYTES" -v s="$mrua_s" 'BEGIN { printf "%.0f", b / 1e6 / s }')
mratio=$(awk -v a="$mrua_mbs" -v b="$mfloor_mbs" 'BEGIN { printf "%.2f", a / b }')
row "parse in memory: floor" "${mfloor_s}s" "$mfloor_mbs MB/s" ""
row "parse in memory: rua (x$mratio of floor)" "${mrua_s}s" "$mrua_mbs MB/s" ""

# --- ingest ------------------------------------------------------------------------------
db="$DATA/ingest.duckdb"; rm -f "$db" "$db.wal"
# Inputs come from the page cache (as in the comparison below): the disk is not rua.
find "$TYPICAL_DIR" "$BIG_XML" -type f -exec cat {} + > /dev/null
read -r s rss < <(measure "$BIN/rua" --db "$db" --quiet ingest "$TYPICAL_DIR")
n_records=$("$BIN/rua" --db "$db" sql --format csv "SELECT sum(n_records) FROM reports" | tail -1)
typical_s=$s
row "ingest $TYPICAL typical reports (gz+zip)" "${s}s" "$(rate "$TYPICAL" "$s") rep/s" "$(mb "$rss") MiB"
row "  ... records" "" "$(rate "$n_records" "$s") rec/s" ""
# The same files again (a cron run over a Maildir): every payload is a duplicate.
read -r s rss < <(measure "$BIN/rua" --db "$db" --quiet ingest "$TYPICAL_DIR")
row "  the same again (all duplicates)" "${s}s" "$(rate "$TYPICAL" "$s") rep/s" "$(mb "$rss") MiB"
x_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf "x%.2f", (b > 0 ? a / b : 0) }'; }
# store_floor N UNIT [RUA_SECONDS]: the same rows stored by DuckDB alone, both cores
# (rua-store-floor); sets store_cpu (its CPU seconds) for the rows after it.
store_floor() {
  local floor="$DATA/floor.duckdb" n s
  rm -f "$floor" "$floor.wal"
  read -r n s store_cpu < <("$BIN/rua-store-floor" "$db" "$floor" 2)
  rm -f "$floor" "$floor.wal"
  row "  store floor (DuckDB alone, $n rows)" "${s}s" "$(rate "$1" "$s") $2" "${store_cpu}s CPU"
  [ -z "$3" ] || row "  rua: $(x_of "$3" "$s") of the store floor" "" "" ""
}
store_floor "$TYPICAL" rep/s "$typical_s"
# The other floor of an ingest: reading, inflating and tokenizing the same files (rua-bench
# files, one thread). With the store floor's CPU, the least any ingest costs on these cores.
cores=$(nproc)
read -r _ n_xml s files_cpu < <("$BIN/rua-bench" files "$TYPICAL_DIR")
row "  unpack+tokenize floor ($(mb "$n_xml") MiB XML)" "${s}s" "$(rate "$TYPICAL" "$s") rep/s" "${files_cpu}s CPU"
both=$(awk -v a="$files_cpu" -v b="$store_cpu" -v n="$cores" 'BEGIN { printf "%.2f", (a + b) / n }')
row "  both floors' CPU over $cores cores" "${both}s" "$(rate "$TYPICAL" "$both") rep/s" ""
row "  rua: $(x_of "$typical_s" "$both") of both floors" "" "" ""
rm -f "$db" "$db.wal"
read -r s rss < <(measure "$BIN/rua" --db "$db" --quiet ingest "$BIG_XML")
row "ingest one $BIG-record report" "${s}s" "$(rate "$BIG" "$s") rec/s" "$(mb "$rss") MiB"
row "  rua: $(x_of "$s" "$floor_s") of the parse floor (streamed)" "" "" ""
store_floor "$BIG" rec/s "$s"
rm -f "$db" "$db.wal"

# --- the fixed cost of a run: the real reports of ../shared/corpus into a new database, then
# an ingest that finds nothing new (a cron run on a quiet day), with its fsyncs (strace).
CORPUS_AGGREGATE="${RUA_CORPUS:-../shared/corpus}/aggregate"
if [ -d "$CORPUS_AGGREGATE" ]; then
  fresh_corpus() { rm -f "$db" "$db.wal"; measure "$BIN/rua" --db "$db" --quiet ingest "$CORPUS_AGGREGATE"; }
  read -r s rss < <(best_of 3 fresh_corpus)
  row "corpus ($(find "$CORPUS_AGGREGATE" -type f | wc -l) files) into a new db; goal 0.3 s" "${s}s" "" "$(mb "$rss") MiB"
  store_floor "$(find "$CORPUS_AGGREGATE" -type f | wc -l)" files/s ""
  mkdir -p "$DATA/nothing"
  fresh_empty() { rm -f "$db" "$db.wal"; measure "$BIN/rua" --db "$db" --quiet ingest "$DATA/nothing"; }
  read -r s rss < <(best_of 3 fresh_empty)
  row "  an empty new database (its schema and views)" "${s}s" "" "$(mb "$rss") MiB"
  fresh_corpus >/dev/null
  read -r s rss < <(best_of 5 measure "$BIN/rua" --db "$db" --quiet ingest "$DATA/nothing")
  n_fsync=$(strace -f -c -e trace=fsync,fdatasync "$BIN/rua" --db "$db" --quiet ingest "$DATA/nothing" 2>&1 >/dev/null \
    | awk '$NF == "total" { print $4 }')
  row "ingest, nothing new; goal 50 ms, 3 fsyncs" "${s}s" "$n_fsync fsyncs" "$(mb "$rss") MiB"
  # Beside it: rua opening the same database read-only (its checks included) for one query.
  read -r s rss < <(best_of 5 measure "$BIN/rua" --db "$db" sql "SELECT 1")
  row "  read-only open: rua sql 'SELECT 1'" "${s}s" "0 fsyncs" "$(mb "$rss") MiB"
  rm -f "$db" "$db.wal"
fi

# The same ingest without the enrichment after the commit: what enrichment adds per report.
rm -f "$db" "$db.wal"
read -r s rss < <(measure "$BIN/rua" --db "$db" --quiet ingest --no-enrich "$TYPICAL_DIR")
row "  the same, --no-enrich" "${s}s" "$(rate "$TYPICAL" "$s") rep/s" "$(mb "$rss") MiB"

# --- the lake: that day's ingest published, alone and into a lake already holding the
# 10,000,000-record database (another node's), against the floor: DuckDB writing the same
# rows of the stored tables (records, reports) to Parquet, nothing joined.
lake_rows() { "$BIN/rua" --db "$1" sql --format csv "SELECT coalesce(sum(n_rows), 0) FROM lake_files WHERE batch_id = (SELECT max(batch_id) FROM lake_batches)" | tail -1; }
LAKE="$DATA/lake"; big="$DATA/lake-big.duckdb"; day="$DATA/lake-day.duckdb"
rm -rf "$LAKE" "$LAKE-empty"; rm -f "$big" "$big.wal" "$day" "$day.wal"
cp "$SUMMARY_DB" "$big"; cp "$db" "$day"
read -r s rss < <(measure "$BIN/rua" --db "$big" --quiet export --incremental -o "$LAKE" --node big)
n=$(lake_rows "$big")
row "lake: publish the $n_db-record database" "${s}s" "$(rate "$n" "$s") rows/s" "$(mb "$rss") MiB"
read -r s rss < <(measure "$BIN/rua" --db "$db" --quiet export --incremental -o "$LAKE-empty" --node day)
n=$(lake_rows "$db")
row "lake: publish one day ($TYPICAL reports), empty lake" "${s}s" "$(rate "$n" "$s") rows/s" "$(mb "$rss") MiB"
read -r s rss < <(measure "$BIN/rua" --db "$day" --quiet export --incremental -o "$LAKE" --node day)
row "  the same, into the lake of $n_db records" "${s}s" "$(rate "$n" "$s") rows/s" "$(mb "$rss") MiB"
floor_sql=$(cat sql/bench/lake_floor.sql)
read -r s rss < <(measure "$BIN/rua" --db "$day" sql -- "${floor_sql//\{dir\}/$DATA}")
row "  floor (DuckDB: the stored rows to Parquet)" "${s}s" "$(rate "$n" "$s") rows/s" "$(mb "$rss") MiB"
rm -rf "$LAKE" "$LAKE-empty" "$DATA/lake-floor-"*.parquet; rm -f "$big" "$big.wal" "$day" "$day.wal"
rm -f "$db" "$db.wal"

# --- enrich: 100,000 addresses against a local DNS server --------------------------------
if [ -x /usr/sbin/dnsmasq ]; then
  N_ADDR=$(( TYPICAL ))
  N_DEAD=$(( N_ADDR / 10 ))
  ADDR_XML="$DATA/addresses-$N_ADDR.xml"
  [ -f "$ADDR_XML" ] || python3 - "$N_ADDR" "$N_DEAD" > "$ADDR_XML" <<'PY'
import sys
n, dead = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout
out.write("<?xml version='1.0'?><feedback><report_metadata><org_name>bench</org_name>"
          "<email>b@bench.test</email><report_id>addresses</report_id><date_range>"
          "<begin>1732752000</begin><end>1732838399</end></date_range></report_metadata>"
          "<policy_published><domain>example.com</domain><p>none</p></policy_published>\n")
for i in range(n):
    # 90% in 198.18.0.0/15 (dnsmasq synthesizes PTR and A), 10% in 45.0.0.0/16 (forwarded
    # to a socket that never answers).
    ip = f"45.0.{i // 250}.{i % 250 + 1}" if i < dead else f"198.{18 + i // 64000}.{i % 64000 // 250}.{i % 250 + 1}"
    out.write(f"<record><row><source_ip>{ip}</source_ip><count>1</count><policy_evaluated>"
              "<disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated>"
              "</row><identifiers><header_from>example.com</header_from></identifiers><auth_results>"
              "<spf><domain>example.com</domain><result>fail</result></spf></auth_results></record>\n")
out.write("</feedback>\n")
PY
  DNS_DIR=$(mktemp -d /tmp/rua-bench-dns.XXXXXX)
  DNS_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 -c 'import socket, sys, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(86400)' "$DNS_DIR/dead.port" &
  DEAD_PID=$!
  while [ ! -s "$DNS_DIR/dead.port" ]; do sleep 0.1; done
  cat > "$DNS_DIR/dnsmasq.conf" <<CONF
port=$DNS_PORT
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
keep-in-foreground
pid-file=
local=/test/
dns-forward-max=10000
cache-size=0
synth-domain=bench.test,198.18.0.0/15,host-
server=/0.45.in-addr.arpa/127.0.0.1#$(cat "$DNS_DIR/dead.port")
CONF
  /usr/sbin/dnsmasq --conf-file="$DNS_DIR/dnsmasq.conf" &
  DNS_PID=$!
  sleep 1
  printf '[enrich]\nnameservers = ["127.0.0.1:%s"]\ntimeout_secs = 2\n' "$DNS_PORT" > "$DNS_DIR/rua.toml"
  edb="$DATA/enrich.duckdb"; rm -f "$edb" "$edb.wal"
  RUA_OFFLINE= "$BIN/rua" --db "$edb" --quiet ingest --no-enrich "$ADDR_XML"
  read -r s rss < <(RUA_OFFLINE= measure "$BIN/rua" --config "$DNS_DIR/rua.toml" --db "$edb" --quiet enrich)
  answered=$("$BIN/rua" --db "$edb" sql --format csv "SELECT count(*) FROM ip_info WHERE status = 'ok'" | tail -1)
  row "enrich $N_ADDR addresses (10% time out)" "${s}s" "$(rate "$N_ADDR" "$s") addr/s" "$(mb "$rss") MiB"
  row "  ... answered and forward-confirmed" "" "$answered" ""
  # The DNS server's floor: dnsmasq (one thread) answering the same answerable queries for a
  # client that does nothing else, as many in flight as rua keeps.
  read -r floor _ < <(python3 crates/bench/dns_floor.py "$DNS_PORT" "$N_ADDR" "$N_DEAD")
  row "  DNS server floor (its answers alone)" "${floor}s" "x$(awk -v a="$s" -v b="$floor" 'BEGIN { printf "%.2f", a / b }') of floor" ""
  read -r s rss < <(RUA_OFFLINE= measure "$BIN/rua" --config "$DNS_DIR/rua.toml" --db "$edb" --quiet enrich)
  row "  again: $N_DEAD timeouts asked again" "${s}s" "" "$(mb "$rss") MiB"
  kill "$DEAD_PID"; wait "$DEAD_PID" 2>/dev/null || true
  "$BIN/rua" --db "$edb" sql --write "UPDATE ip_info SET status = 'nxdomain' WHERE status = 'timeout'" >/dev/null
  read -r s rss < <(RUA_OFFLINE= measure "$BIN/rua" --config "$DNS_DIR/rua.toml" --db "$edb" --quiet enrich)
  row "  again, everything kept (no DNS)" "${s}s" "" "$(mb "$rss") MiB"
  kill "$DNS_PID"; wait "$DNS_PID" 2>/dev/null || true
  rm -rf "$DNS_DIR" "$edb" "$edb.wal"
fi

# --- summaries over the big database -----------------------------------------------------
# Each is the best of three runs: the first run after the ingest benchmarks may read the
# database from disk, which measures the disk, not rua.
for by in ip net alignment domain reporter day disposition class class-sender sender asn country; do
  read -r s rss < <(best_of 3 measure "$BIN/rua" --db "$SUMMARY_DB" summary --by "$by" --limit 20 --format csv)
  row "summary --by $by ($n_db records)" "${s}s" "" "$(mb "$rss") MiB"
done
read -r s rss < <(best_of 3 measure "$BIN/rua" --db "$SUMMARY_DB" summary --format csv)
row "summary (default overview, $n_db records)" "${s}s" "" "$(mb "$rss") MiB"
read -r s rss < <(best_of 3 measure "$BIN/rua" --db "$SUMMARY_DB" policy --format csv)
row "policy (readiness, $n_db records)" "${s}s" "" "$(mb "$rss") MiB"
read -r s rss < <(best_of 3 measure "$BIN/rua" --db "$SUMMARY_DB" report --output "$DATA/report.html")
row "report (HTML, $n_db records; goal 3 s, 300 MB)" "${s}s" "" "$(mb "$rss") MiB"
out="$DATA/export.parquet"
read -r s rss < <(rm -f "$out"; best_of 3 measure "$BIN/rua" --db "$SUMMARY_DB" export --format parquet --output "$out")
row "export report_records to Parquet" "${s}s" "$(rate "$n_db" "$s") rows/s" "$(mb "$rss") MiB"

# --- rua versus parsedmarc ----------------------------------------------------------------
PM_VENV="$CARGO_TARGET_DIR/bench-data/parsedmarc-$PM_VERSION"
if [ ! -x "$PM_VENV/bin/parsedmarc" ]; then
  rm -rf "$PM_VENV"
  python3 -m venv "$PM_VENV"
  "$PM_VENV/bin/pip" install --quiet --disable-pip-version-check "parsedmarc==$PM_VERSION"
fi
PM="$PM_VENV/bin/parsedmarc"
versus_rows=()
versus_row() { versus_rows+=("$(printf '%-34s %9s %9s %12s %12s %9s %9s %8s' "$@")"); }
# versus LABEL N_RUA N_PM RUA_INPUT PM_INPUTS...: ingest with rua (all N_RUA) and parsedmarc (N_PM).
versus() {
  local label=$1 n_rua=$2 n_pm=$3 rua_input=$4; shift 4
  local db="$DATA/versus.duckdb" out="$DATA/parsedmarc-out"
  rm -f "$db" "$db.wal"; rm -rf "$out"
  # Both read their inputs from the page cache, not whichever runs first from the disk.
  find -L "$rua_input" "$@" -type f -exec cat {} + > /dev/null
  read -r rs rrss < <(measure "$BIN/rua" --db "$db" --quiet ingest "$rua_input")
  read -r ps prss < <(measure timeout "${PM_TIMEOUT:-900}" "$PM" --offline --silent -o "$out" "$@")
  local rrate prate
  rrate=$(rate "$n_rua" "$rs"); prate=$(rate "$n_pm" "$ps")
  versus_row "$label" "$n_rua" "$n_pm" "${rs}s" "${ps}s" "$rrate/s" "$prate/s" \
    "x$(awk -v a="$rrate" -v b="$prate" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }')"
  versus_row "  peak RSS" "" "" "$(mb "$rrss") MiB" "$(mb "$prss") MiB" "" "" ""
  rm -f "$db" "$db.wal"; rm -rf "$out"
}
gen_corpus() { # DIR N CONTAINER
  [ -f "$1/.done" ] || { rm -rf "$1"; "$BIN/rua-gen" corpus --reports "$2" --seed 23 --container "$3" --out "$1" 2>/dev/null; touch "$1/.done"; }
}
FILES="$DATA/versus-files-$VERSUS"; gen_corpus "$FILES" "$VERSUS" mixed
PM_FILES="$DATA/versus-files-$VERSUS-first-$PM_SAMPLE"
if [ ! -d "$PM_FILES" ]; then
  mkdir -p "$PM_FILES"
  find "$FILES" -type f ! -name .done | sort | sed -n "1,${PM_SAMPLE}p" | xargs -I{} ln -s {} "$PM_FILES/"
fi
versus "$VERSUS typical report files (gz+zip)" "$VERSUS" "$PM_SAMPLE" "$FILES" "$PM_FILES"/*
MID_XML="$DATA/mid-$MID.xml"
[ -f "$MID_XML" ] || "$BIN/rua-gen" report --records "$MID" --style google --seed 5 --out "$MID_XML" 2>/dev/null
versus "one $MID-record report (records)" "$MID" "$MID" "$MID_XML" "$MID_XML"
MBOX="$DATA/versus-mbox-$VERSUS"; gen_corpus "$MBOX" "$VERSUS" mbox
PM_MBOX="$DATA/versus-mbox-$VERSUS-first-$PM_SAMPLE"; gen_corpus "$PM_MBOX" "$PM_SAMPLE" mbox
versus "$VERSUS report mails in one mbox" "$VERSUS" "$PM_SAMPLE" "$MBOX/reports.mbox" "$PM_MBOX/reports.mbox"

# IMAP: a private Dovecot (as in the tests) with the mails written straight into its Maildir.
# Under /tmp: Dovecot's unprivileged processes cannot enter a home directory.
IMAP_ROOT=$(mktemp -d /tmp/rua-bench-dovecot.XXXXXX); mkdir -p "$IMAP_ROOT/mail/dmarc/Maildir"; chmod 755 "$IMAP_ROOT"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$IMAP_ROOT/key.pem" -out "$IMAP_ROOT/cert.pem" -days 2 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
echo 'dmarc:{PLAIN}bench::::::' > "$IMAP_ROOT/passwd"; echo bench > "$IMAP_ROOT/password"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
IMAP_PORT=$(free_port); IMAPS_PORT=$(free_port)
sed -e "s|@ROOT@|$IMAP_ROOT|g" -e "s|@IMAP_PORT@|$IMAP_PORT|g" -e "s|@IMAPS_PORT@|$IMAPS_PORT|g" \
  tests/support/dovecot.conf.in > "$IMAP_ROOT/dovecot.conf"
"$BIN/rua-gen" corpus --reports "$VERSUS" --seed 29 --container maildir --out "$IMAP_ROOT/mail/dmarc/Maildir/.Bench" 2>/dev/null
"$BIN/rua-gen" corpus --reports "$PM_IMAP" --seed 29 --container maildir --out "$IMAP_ROOT/mail/dmarc/Maildir/.BenchPM" 2>/dev/null
chown -R mail:mail "$IMAP_ROOT/mail"
/usr/sbin/dovecot -F -c "$IMAP_ROOT/dovecot.conf" & DOVECOT_PID=$!
trap 'status=$?; kill $DOVECOT_PID 2>/dev/null; wait $DOVECOT_PID 2>/dev/null; rm -rf "$IMAP_ROOT"; exit $status' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$IMAPS_PORT") 2>/dev/null && break; sleep 0.1; done
cat > "$IMAP_ROOT/rua.toml" <<TOML
[database]
path = "$DATA/versus.duckdb"
[[mailbox]]
name = "bench"
host = "127.0.0.1"
port = $IMAPS_PORT
user = "dmarc"
secret = { file = "$IMAP_ROOT/password" }
ca_file = "$IMAP_ROOT/cert.pem"
folder = "Bench"
read_only = true
batch_size = 500
TOML
cat > "$IMAP_ROOT/parsedmarc.ini" <<INI
[general]
save_aggregate = True
output = $DATA/parsedmarc-out
offline = True
silent = True
[mailbox]
reports_folder = BenchPM
test = True
batch_size = 0
[imap]
host = 127.0.0.1
port = $IMAPS_PORT
ssl = True
skip_certificate_verification = True
user = dmarc
password = bench
INI
rm -f "$DATA/versus.duckdb" "$DATA/versus.duckdb.wal"; rm -rf "$DATA/parsedmarc-out"
read -r rs rrss < <(measure "$BIN/rua" --config "$IMAP_ROOT/rua.toml" --quiet fetch)
read -r ps prss < <(measure timeout "${PM_TIMEOUT:-900}" "$PM" -c "$IMAP_ROOT/parsedmarc.ini")
n_fetched=$("$BIN/rua" --db "$DATA/versus.duckdb" sql --format csv "SELECT count(*) FROM reports" | tail -1)
[ "$n_fetched" = "$VERSUS" ] || { echo "rua fetch stored $n_fetched of $VERSUS reports" >&2; exit 1; }
rrate=$(rate "$VERSUS" "$rs"); prate=$(rate "$PM_IMAP" "$ps")
versus_row "IMAP fetch of $VERSUS mails (TLS)" "$VERSUS" "$PM_IMAP" "${rs}s" "${ps}s" "$rrate/s" "$prate/s" \
  "x$(awk -v a="$rrate" -v b="$prate" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }')"
versus_row "  peak RSS" "" "" "$(mb "$rrss") MiB" "$(mb "$prss") MiB" "" "" ""
rm -f "$DATA/versus.duckdb" "$DATA/versus.duckdb.wal"

echo
echo "rua benchmarks on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d)"
printf '%-44s %12s %14s %10s\n' "workload" "wall" "throughput" "peak RSS"
for r in "${rows[@]}"; do echo "$r"; done
echo
echo "rua versus parsedmarc $PM_VERSION (offline, CSV output); n = inputs each one processed"
printf '%-34s %9s %9s %12s %12s %9s %9s %8s\n' "workload" "n rua" "n pm" "rua wall" "pm wall" "rua rate" "pm rate" "ratio"
for r in "${versus_rows[@]}"; do echo "$r"; done
