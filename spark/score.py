#!/usr/bin/env python3
"""Score every record of a crawl for spinning, on Spark; Parquet out.

    spark-submit spark/score.py --manifest wet.paths -o scores/          # WARC/WET/JSONL/text files
    spark-submit spark/score.py --jsonl 's3a://bucket/docs/*.jsonl' -o scores/

Inputs, as in Common Crawl's cc-pyspark: a manifest (one file path per line; each file is one
task, read by unspin-io on the executor exactly as `unspin scan` reads it: same ids, same
"source"), or input files named on the command line, or JSONL read by Spark itself (`--jsonl`,
any Hadoop file system). Each partition calls the Rust core once per Arrow batch; the model pack
is loaded once per Python worker. Output: one row per record with id, score, flagged, spans
(array of structs, byte offsets), paragraphs, fingerprints, spin_rate, words, stage, bytes,
source, url, date, error (see unspin.spark.SCORES). See spark/README.md for spark-submit.
"""

import argparse
import sys
import time

from pyspark.sql import SparkSession

import unspin.spark as us


def main(argv=None, spark=None) -> int:
    """Runs the job; with `spark` given (a test's session) it is used and left running."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("inputs", nargs="*", help="input files or directories (text, JSONL, WARC/WET, PDF; gzip or not)")
    ap.add_argument("--manifest", help="a file listing input paths, one per line")
    ap.add_argument("--jsonl", nargs="+", help="JSONL paths or globs read by Spark (s3a://, hdfs://, local)")
    ap.add_argument("-o", "--output", required=True, help="output Parquet directory (overwritten)")
    ap.add_argument("--format", help="read every input in this format (text, jsonl, warc, pdf)")
    ap.add_argument("--field", default="text", help="JSONL: the field holding the text")
    ap.add_argument("--id-field", default="id", help="JSONL: the field holding the id")
    ap.add_argument("--partitions", type=int, help="repartition the records into N partitions before scoring")
    ap.add_argument("--batch", type=int, default=64, help="records per Arrow batch (one Rust call each)")
    ap.add_argument("--max-records-per-file", type=int, default=0, help="Parquet: records per output file (0: no limit)")
    ap.add_argument("--pack", help="model pack file (ship it with --files; default: the package's)")
    ap.add_argument("--fingerprints", help="a saved fingerprint list (ship it with --files)")
    ap.add_argument("--profile", help="a learned spinner profile, `unspin learn` (ship it with --files)")
    ap.add_argument(
        "--max-record-bytes",
        type=int,
        default=us.MAX_RECORD_BYTES,
        help="longer records are error rows (default 4 MiB, as unspin scan with the model)",
    )
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--screen-below", type=float, default=0.0)
    a = ap.parse_args(argv)
    if not (a.inputs or a.manifest or a.jsonl):
        ap.error("name inputs, --manifest or --jsonl")

    own = spark is None
    if own:
        # No .master() here: spark-submit --master decides (local[*] when run with plain python).
        spark = SparkSession.builder.appName("unspin-score").getOrCreate()
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(a.batch))
    t0 = time.time()
    frames = []
    paths = us.expand_inputs(a.inputs) + (us.read_manifest(spark, a.manifest) if a.manifest else [])
    if paths:
        frames.append(
            us.read_records(
                spark, paths, format=a.format, field=a.field, id_field=a.id_field, max_record_bytes=a.max_record_bytes
            )
        )
    if a.jsonl:
        frames.append(us.read_jsonl(spark, a.jsonl, field=a.field, id_field=a.id_field))
    records = frames[0]
    for f in frames[1:]:
        records = records.unionByName(f)
    if a.partitions:
        records = records.repartition(a.partitions)
    scores = us.score(
        records,
        pack=a.pack,
        threshold=a.threshold,
        screen_below=a.screen_below,
        fingerprints=a.fingerprints,
        profile=a.profile,
        max_record_bytes=a.max_record_bytes,
    )
    (
        scores.write.mode("overwrite")
        .option("maxRecordsPerFile", a.max_records_per_file)
        .parquet(a.output)
    )
    elapsed = time.time() - t0
    written = spark.read.parquet(a.output)
    n = written.count()
    flagged = written.where("flagged").count()
    errors = written.where("error is not null").count()
    print(
        f"unspin-score: {n} records, {flagged} flagged, {errors} errors in {elapsed:.1f} s -> {a.output}",
        file=sys.stderr,
    )
    if own:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
