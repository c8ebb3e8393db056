#!/usr/bin/env python3
"""Trace spun documents to their sources at scale, on Spark; Parquet out.

    spark-submit spark/trace.py --originals originals.paths --candidates suspects.paths -o sources/

Both sides are manifests (or input files, or --*-jsonl read by Spark). Every document is signed
in Rust (MinHash of the words a spinner cannot change, per passage, LSH bands; the index's
parameters); band rows are exploded and the suspects joined to the originals on the band key;
buckets larger than --max-bucket (boilerplate) are dropped; up to --screen candidates per
suspect (by the rarity-weighted bands shared, as `Index::candidates` ranks them) are screened
by the pairs of adjacent words they share with it, and the best --verify that pass are verified
in Rust by the word alignment `unspin trace` uses, as `unspin trace` does. Output:
one row per (query_id, source_id) scoring at least --min-score, best first (rank), with the
alignment summary. No global clustering: it is query-against-originals, so the originals' side
can grow append-only.
"""

import argparse
import sys
import time

from pyspark.sql import SparkSession

import unspin.spark as us


def side(spark, a, files, manifest, jsonl):
    frames = []
    paths = us.expand_inputs(files or []) + (us.read_manifest(spark, manifest) if manifest else [])
    if paths:
        # The record limit of `unspin index build`: signing and alignment cost little per byte.
        frames.append(us.read_records(spark, paths, field=a.field, id_field=a.id_field, max_record_bytes=64 << 20))
    if jsonl:
        frames.append(us.read_jsonl(spark, jsonl, field=a.field, id_field=a.id_field))
    if not frames:
        return None
    df = frames[0]
    for f in frames[1:]:
        df = df.unionByName(f)
    df = df.where("text is not null").select("id", "text")
    return df.repartition(a.partitions) if a.partitions else df


def main(argv=None, spark=None) -> int:
    """Runs the job; with `spark` given (a test's session) it is used and left running."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--originals", nargs="*", default=[], help="original files or directories")
    ap.add_argument("--originals-manifest")
    ap.add_argument("--originals-jsonl", nargs="+")
    ap.add_argument("--candidates", nargs="*", default=[], help="suspect (spun) files or directories")
    ap.add_argument("--candidates-manifest")
    ap.add_argument("--candidates-jsonl", nargs="+")
    ap.add_argument("-o", "--output", required=True, help="output Parquet directory (overwritten)")
    ap.add_argument("--field", default="text")
    ap.add_argument("--id-field", default="id")
    ap.add_argument("--partitions", type=int, help="repartition each side into N partitions")
    ap.add_argument("--pack", help="model pack file (ship it with --files)")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--verify", type=int, default=8)
    ap.add_argument("--screen", type=int, default=32, help="candidates screened per suspect (as unspin trace --screen)")
    ap.add_argument("--min-score", type=float, default=0.6)
    ap.add_argument("--max-bucket", type=int, default=4096)
    ap.add_argument("--profile", help="a learned spinner profile: its substitutions count as explained (ship it with --files)")
    a = ap.parse_args(argv)

    own = spark is None
    if own:
        spark = SparkSession.builder.appName("unspin-trace").getOrCreate()
    t0 = time.time()
    originals = side(spark, a, a.originals, a.originals_manifest, a.originals_jsonl)
    suspects = side(spark, a, a.candidates, a.candidates_manifest, a.candidates_jsonl)
    if originals is None or suspects is None:
        ap.error("name originals and candidates")
    found = us.trace(
        suspects, originals, pack=a.pack, top=a.top, verify=a.verify, screen=a.screen,
        min_score=a.min_score, max_bucket=a.max_bucket, profile=a.profile,
    )
    found.write.mode("overwrite").parquet(a.output)
    elapsed = time.time() - t0
    n = spark.read.parquet(a.output).where("rank = 1").count()
    print(f"unspin-trace: {n} suspects traced in {elapsed:.1f} s -> {a.output}", file=sys.stderr)
    if own:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
