# rua's two commands are `make run` and `make test`; CI runs `make lint` and `make test`.
#
# Everything builds in the release profile: bundled DuckDB takes about 35 minutes to compile
# per profile, so tests, runs and benchmarks share one build in a target directory outside
# the clone (override CARGO_TARGET_DIR to move it).

export CARGO_TARGET_DIR ?= $(HOME)/.cache/rua-target
CARGO ?= cargo
RUA := $(CARGO_TARGET_DIR)/release/rua
DB ?= rua.duckdb
FUZZ_SECONDS ?= 60

.PHONY: build run test test-core test-deps lint bench fuzz clean ip-database

build:
	$(CARGO) build --release --locked --bin rua

# Ingest the fixtures in sample-reports/ into ./rua.duckdb and print the summaries. Some
# fixtures are broken on purpose, so ingest exits 1 (finished with rejects); that is expected.
# sample-reports/rua.toml names the samples' own servers and keeps enrichment offline.
run: build
	$(RUA) --config sample-reports/rua.toml --db $(DB) ingest sample-reports/aggregate sample-reports/containers; status=$$?; [ $$status -le 1 ] || exit $$status
	$(RUA) --db $(DB) summary --format table
	$(RUA) --db $(DB) summary --by sender --format table
	$(RUA) --db $(DB) summary --by tls --format table
	$(RUA) --db $(DB) summary --by failure --format table
	$(RUA) --db $(DB) policy --format table
	$(RUA) --db $(DB) alerts; status=$$?; [ $$status -eq 0 ] || [ $$status -eq 6 ] || exit $$status
	$(RUA) --db $(DB) report --output report.html

# What the tests need beyond cargo: pyarrow reads the exports back independently, DuckDB's
# Python client opens the database as another client would, mmdb-writer writes the tiny IP
# databases of the enrichment tests; the IMAP tests start their own Dovecot (Debian's
# dovecot-imapd) and make certificates with openssl; the enrichment tests start dnsmasq; the
# lake test runs Spark in local mode (pyspark, on Debian's Java runtime).
test-deps:
	@python3 -c 'import pyarrow, duckdb, mmdb_writer, netaddr, websocket, pyspark' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore pyarrow duckdb mmdb-writer netaddr websocket-client pyspark
	@command -v openssl >/dev/null && [ -x /usr/sbin/dovecot ] && [ -x /usr/sbin/dnsmasq ] && command -v chromium >/dev/null && command -v java >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "install dovecot-imapd, dnsmasq-base, openssl, chromium and a Java runtime"; exit 1; }; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dnsmasq-base openssl chromium fonts-dejavu-core default-jre-headless >/dev/null'; }

test: test-deps
	$(CARGO) test --release --locked --workspace

# The crates that do not link DuckDB (report, unpack, align, imap, enrich): minutes, not the 35 of a
# first DuckDB build, and no external service needed.
CORE_CRATES := -p rua-report -p rua-unpack -p rua-align -p rua-imap -p rua-enrich
test-core:
	$(CARGO) test --release --locked $(CORE_CRATES)

# Besides format and clippy: the docs build with warnings denied (broken intra-doc links),
# and the fuzz targets (a workspace of their own) still compile against the crates' APIs.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release --locked --workspace --no-deps
	$(CARGO) check --locked --manifest-path crates/fuzz/Cargo.toml --target-dir $(CARGO_TARGET_DIR)/fuzz

# Generates the benchmark data (cached in $(CARGO_TARGET_DIR)/bench-data) and prints a table.
bench:
	crates/bench/bench.sh

# Fuzz each target for FUZZ_SECONDS, seeded with the shared corpus (see ARCHITECTURE.md).
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz
	for target in parse_report parse_tls parse_failure unpack_message unpack_archive; do \
	  mkdir -p crates/fuzz/corpus/$$target && \
	  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)/fuzz $(CARGO) fuzz run --fuzz-dir crates/fuzz -s none -O $$target \
	    crates/fuzz/corpus/$$target $$( [ -d ../shared/corpus ] && echo ../shared/corpus ) sample-reports \
	    -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 || exit 1; \
	done

# IPinfo Lite (CC BY-SA 4.0, attribution to IPinfo), as shipped inside the parsedmarc wheel
# on PyPI, for `[enrich] ip_databases` (docs/enrichment.md). Run it again monthly.
IPDB_DIR ?= $(HOME)/.local/share/rua
ip-database:
	mkdir -p $(IPDB_DIR)
	tmp=$$(mktemp -d) && python3 -m pip download --quiet --disable-pip-version-check --no-deps --dest $$tmp parsedmarc && \
	python3 -c 'import sys, glob, zipfile; w = zipfile.ZipFile(glob.glob(sys.argv[1] + "/parsedmarc-*.whl")[0]); open(sys.argv[2], "wb").write(w.read("parsedmarc/resources/ipinfo/ipinfo_lite.mmdb"))' $$tmp $(IPDB_DIR)/ipinfo_lite.mmdb; \
	status=$$?; rm -rf $$tmp; [ $$status = 0 ] && echo "wrote $(IPDB_DIR)/ipinfo_lite.mmdb (IPinfo Lite, CC BY-SA 4.0)"

clean:
	rm -f $(DB) $(DB).wal
