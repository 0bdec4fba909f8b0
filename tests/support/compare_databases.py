"""Compares the rows of two rua databases table by table, ignoring when things happened.

Usage: compare_databases.py A.duckdb B.duckdb [--ignore COLUMN]...

For every table of either database, the rows of one that the other lacks (EXCEPT ALL, both
ways, so duplicates count), leaving out the columns that record when a run, a report or a
migration happened or how long it took. Prints one line per table and exits 1 when any table
differs or exists in one database only. `--ignore reject_key` compares rejects as a set
whatever their keys (rua before 0.1.0 of 2026-12-03 numbered a reject found while reports
were with the parser threads by thread timing). Used to check that a change of rua's code stores the
same rows as before for the same inputs (see docs/performance.md).
"""

import sys

import duckdb

# Columns that differ between two runs over the same inputs by nature.
WHEN = {
    "ingested_at",
    "rejected_at",
    "started_at",
    "finished_at",
    "duration_ms",
    "applied_at",
    "updated_at",
    "command",
}


def tables(con, alias):
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [alias]
    ).fetchall()
    return {r[0] for r in rows}


def columns(con, alias, table, ignored):
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ? "
        "ORDER BY column_index",
        [alias, table],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in WHEN | ignored]


def main():
    a, b = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    ignored = {rest[i + 1] for i in range(len(rest) - 1) if rest[i] == "--ignore"}
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    differs = False
    for table in sorted(tables(con, "a") | tables(con, "b")):
        if table not in tables(con, "a") or table not in tables(con, "b"):
            print(f"{table}: only in one database")
            differs = True
            continue
        cols_a, cols_b = columns(con, "a", table, ignored), columns(con, "b", table, ignored)
        if cols_a != cols_b:
            print(f"{table}: columns differ: {cols_a} vs {cols_b}")
            differs = True
            continue
        cols = ", ".join(f'"{c}"' for c in cols_a)
        n = con.execute(f"SELECT count(*) FROM a.{table}").fetchone()[0]
        only_a = con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM a.{table} EXCEPT ALL SELECT {cols} FROM b.{table})"
        ).fetchone()[0]
        only_b = con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM b.{table} EXCEPT ALL SELECT {cols} FROM a.{table})"
        ).fetchone()[0]
        same = only_a == 0 and only_b == 0
        differs |= not same
        print(f"{table}: {n} rows, {'equal' if same else f'{only_a} only in A, {only_b} only in B'}")
    sys.exit(1 if differs else 0)


if __name__ == "__main__":
    main()
