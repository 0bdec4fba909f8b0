"""Checks that the senders and classes `rua enrich` stored are the ones the views compute.

Usage: compare_classes.py DB

Reads classified_records from a copy of DB (the stored classes), then drops every stored
class in the copy (class_rule NULL: classified_records then computes each record's from
computed_classes), reads it again and compares the two, row by row. Prints how many records
matched; exits 1 when any record differs, when some record was not classified, or when there
is nothing to compare.
"""

import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

QUERY = """
SELECT report_key, record_index, sender, sender_type, sender_rule, sender_confidence,
       class_rule, class, class_note
FROM classified_records ORDER BY report_key, record_index
"""


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.duckdb"
        shutil.copyfile(sys.argv[1], copy)
        con = duckdb.connect(str(copy))
        unclassified = con.execute(
            "SELECT count(*) FROM records WHERE class_rule IS NULL"
            " AND report_key IN (SELECT report_key FROM counted_reports)"
        ).fetchall()[0][0]
        stored = con.execute(QUERY).fetchall()
        con.execute("UPDATE records SET class_rule = NULL")
        computed = con.execute(QUERY).fetchall()
    differ = [(s, c) for s, c in zip(stored, computed) if s != c]
    for s, c in differ[:5]:
        print(f"stored   {s}\ncomputed {c}")
    print(f"{len(stored)} records, {unclassified} not classified, {len(differ)} differ")
    ok = stored and len(stored) == len(computed) and not differ and unclassified == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
