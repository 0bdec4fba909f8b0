"""Reads a rua lake the way its users do, and prints what each reader counted as JSON.

    lake_read.py LAKE pyarrow
    lake_read.py LAKE spark STREAM_COMMANDS_FILE

pyarrow: rows, messages and duplicate rows per node, for every dataset (Hive partitioning,
as `pyarrow.dataset` discovers it). spark: Spark in local mode, offline, reading the same
directory: the same figures, the README's query that counts each report once across nodes,
and a Structured Streaming query over `records` started before the commands in
STREAM_COMMANDS_FILE run: {"publish": [argv, ...], "compact": [argv, ...]}, each list run in
order (each command must exit with 0, or 1 for inputs rua rejected): the rows the stream saw
after the publish, and after the compaction (none: its maxFileAge, 1 s, is under the
compaction's compact_after, so a merged file, which keeps the old files' time, is old to it).
"""

import json
import os
import subprocess
import sys
import time

DATASETS = ["records", "reports", "tls_policies", "failure_reports"]
# What identifies a row within a report, per dataset.
ROW_KEYS = {
    "records": ["report_identity", "record_index"],
    "reports": ["report_identity"],
    "tls_policies": ["report_identity", "policy_index"],
    "failure_reports": ["report_identity"],
}

# The README's query: each report counted once, from the first node (by name) that has it.
DEDUP = """
WITH firsts AS (
    SELECT report_identity, min(node) AS node FROM reports GROUP BY report_identity
)
SELECT (SELECT count(*) FROM firsts) AS reports,
       sum(r.message_count) AS messages
FROM records r JOIN firsts f ON r.report_identity = f.report_identity AND r.node = f.node
"""


def with_pyarrow(lake):
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    out = {}
    for name in DATASETS:
        if not os.path.isdir(f"{lake}/{name}"):  # no report of its kind published
            out[name] = {}
            continue
        table = ds.dataset(f"{lake}/{name}", format="parquet", partitioning="hive").to_table()
        nodes = {}
        for node in sorted(set(table.column("node").to_pylist())):
            part = table.filter(pc.equal(table.column("node"), node))
            keys = list(zip(*(part.column(k).to_pylist() for k in ROW_KEYS[name])))
            figures = {"rows": part.num_rows, "duplicates": len(keys) - len(set(keys))}
            if name == "records":
                figures["messages"] = pc.sum(part.column("message_count")).as_py()
            nodes[node] = figures
        out[name] = nodes
    return out


def spark_figures(spark, lake):
    out = {}
    for name in DATASETS:
        if not os.path.isdir(f"{lake}/{name}"):  # no report of its kind published
            out[name] = {}
            continue
        df = spark.read.parquet(f"{lake}/{name}")
        df.createOrReplaceTempView(name)
        key = ", ".join(ROW_KEYS[name])
        rows = spark.sql(
            f"""SELECT node, count(*) AS rows,
                       {"sum(message_count)" if name == "records" else "NULL"} AS messages
                FROM {name} GROUP BY node"""
        ).collect()
        dups = dict(
            spark.sql(
                f"""SELECT node, count(*) FROM (SELECT node, {key}, count(*) AS n FROM {name}
                    GROUP BY node, {key} HAVING count(*) > 1) GROUP BY node"""
            ).collect()
        )
        out[name] = {
            r["node"]: {
                "rows": r["rows"],
                "duplicates": dups.get(r["node"], 0),
                **({"messages": r["messages"]} if name == "records" else {}),
            }
            for r in rows
        }
    reports, messages = spark.sql(DEDUP).collect()[0]
    out["dedup"] = {"reports": reports, "messages": messages}
    return out


def run(commands):
    for argv in commands:
        code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        if code not in (0, 1):
            raise SystemExit(f"{argv[:8]} ... exited with {code}")


def settle(query, seen, before, at_least):
    """Lets the stream process what landed: until it has more than `before` batches (or for
    up to two minutes when `at_least` is 0, a few triggers), then a few triggers more, so
    that a file it would read twice shows."""
    deadline = time.time() + (120 if at_least else 3)
    while time.time() < deadline:
        query.processAllAvailable()
        if at_least and len(seen) > before:
            break
        time.sleep(0.5)
    time.sleep(1.5)
    query.processAllAvailable()


def with_spark(lake, phases):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("rua-lake-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    result = {"before": spark_figures(spark, lake)}

    # A stream over the records, started before the next publish.
    schema = spark.read.parquet(f"{lake}/records").schema
    seen = []

    def collect(batch, batch_id):
        row = batch.selectExpr(
            "count(*) AS rows", "sum(message_count) AS messages",
            "count(DISTINCT report_identity) AS reports",
        ).collect()[0]
        seen.append({"batch": batch_id, "rows": row["rows"], "messages": row["messages"] or 0,
                     "reports": row["reports"]})

    query = (
        spark.readStream.schema(schema).option("maxFileAge", "1s").parquet(f"{lake}/records")
        .writeStream.foreachBatch(collect)
        .option("checkpointLocation", f"{lake}/../spark-checkpoint")
        .trigger(processingTime="500 milliseconds")
        .start()
    )
    query.processAllAvailable()
    initial = list(seen)
    run(phases["publish"])
    settle(query, seen, len(initial), at_least=1)
    published = seen[len(initial):]
    run(phases["compact"])
    settle(query, seen, len(seen), at_least=0)
    compacted = seen[len(initial) + len(published):]
    query.stop()
    result["stream"] = {
        "initial_rows": sum(b["rows"] for b in initial),
        "new_rows": sum(b["rows"] for b in published),
        "new_messages": sum(b["messages"] for b in published),
        "new_batches": len(published),
        "rows_after_compaction": sum(b["rows"] for b in compacted),
    }
    result["after"] = spark_figures(spark, lake)
    spark.stop()
    return result


def main():
    lake, reader = sys.argv[1], sys.argv[2]
    if reader == "pyarrow":
        print(json.dumps(with_pyarrow(lake)))
    else:
        with open(sys.argv[3]) as commands:
            print(json.dumps(with_spark(lake, json.load(commands))))


if __name__ == "__main__":
    main()
