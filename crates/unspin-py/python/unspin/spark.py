"""Spark building blocks for unspin: reading inputs, scoring and tracing per Arrow batch.

The jobs in the repository's ``spark/`` folder (``score.py``, ``trace.py``) are thin command
lines over these functions; they live in the package so that executors have them wherever the
wheel is installed. Rust does the per-document work (reading WARC/WET/JSONL records, detection,
signatures, alignment) with the GIL released; Spark distributes files, shuffles, joins and writes
Parquet. The model pack is loaded once per Python worker process (``unspin.default_pack()`` or
the ``--pack`` file shipped with ``--files``), not once per task.

Importing this module needs ``pyspark`` and ``pyarrow``.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, List, Optional, Sequence

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

import unspin

# ---------------------------------------------------------------------------------------------
# Schemas. Arrow types must match the Spark schema exactly (mapInArrow checks them): float32 is
# FloatType, int64 LongType.

SOURCE = pa.struct(
    [
        ("path", pa.string()),
        ("file", pa.int64()),
        ("record", pa.int64()),
        ("line", pa.int64()),
        ("offset", pa.int64()),
    ]
)

RECORDS = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("error", pa.string()),
        ("source", SOURCE),
        ("url", pa.string()),
        ("date", pa.string()),
    ]
)

ALTERNATIVE = pa.struct([("text", pa.string()), ("confidence", pa.float32())])

SCORES = pa.schema(
    [
        ("id", pa.string()),
        ("score", pa.float32()),
        ("flagged", pa.bool_()),
        (
            "spans",
            pa.list_(
                pa.struct(
                    [
                        ("start", pa.int64()),
                        ("end", pa.int64()),
                        ("spun", pa.string()),
                        ("original", pa.string()),
                        ("confidence", pa.float32()),
                        ("log_odds", pa.float32()),
                        ("alternatives", pa.list_(ALTERNATIVE)),
                    ]
                )
            ),
        ),
        (
            "paragraphs",
            pa.list_(
                pa.struct(
                    [
                        ("start", pa.int64()),
                        ("end", pa.int64()),
                        ("score", pa.float32()),
                        ("own_score", pa.float32()),
                        ("words", pa.int64()),
                        ("spans", pa.int64()),
                    ]
                )
            ),
        ),
        (
            "fingerprints",
            pa.list_(
                pa.struct(
                    [
                        ("start", pa.int64()),
                        ("end", pa.int64()),
                        ("matched", pa.string()),
                        ("tortured", pa.string()),
                        ("expected", pa.string()),
                        ("query", pa.string()),
                    ]
                )
            ),
        ),
        ("spin_rate", pa.float32()),
        ("words", pa.int64()),
        ("scorer", pa.string()),
        ("stage", pa.string()),
        ("bytes", pa.int64()),
        ("source", SOURCE),
        ("url", pa.string()),
        ("date", pa.string()),
        ("error", pa.string()),
    ]
)

BANDS = pa.schema(
    [
        ("id", pa.string()),
        ("start", pa.int64()),
        ("band_key", pa.int64()),
    ]
)

VERIFIED = pa.schema(
    [
        ("query_id", pa.string()),
        ("source_id", pa.string()),
        ("bands", pa.int64()),
        ("score", pa.float32()),
        (
            "alignment",
            pa.struct(
                [
                    ("words", pa.int64()),
                    ("matched", pa.int64()),
                    ("explained", pa.int64()),
                    ("unexplained", pa.int64()),
                    ("conflicts", pa.int64()),
                    ("source_start", pa.int64()),
                    ("source_end", pa.int64()),
                    ("substitutions", pa.int64()),
                    ("edits", pa.string()),
                ]
            ),
        ),
    ]
)


def spark_schema(schema: pa.Schema):
    """The Spark schema of an Arrow schema."""
    return from_arrow_schema(schema)


# The largest record scored, as `unspin scan` limits it with the model: the analysis takes ~250
# bytes per byte of text, so a 4 MiB record needs ~1 GB of a worker's memory.
MAX_RECORD_BYTES = 4 << 20

# ---------------------------------------------------------------------------------------------
# Per-process state: one pack, one detector, one signer per Python worker.

_cache: Dict[Any, Any] = {}


def _pack(pack_path: Optional[str]) -> "unspin.Pack":
    if not pack_path:
        return unspin.default_pack()
    key = ("pack", pack_path)
    if key not in _cache:
        _cache[key] = unspin.Pack(_shipped(pack_path))
    return _cache[key]


def _shipped(path: Optional[str]) -> Optional[str]:
    """A file given on the command line, or shipped with --files (then in the task's working
    directory under its base name)."""
    if not path or os.path.exists(path):
        return path
    return os.path.basename(path)


def _detector(
    pack_path: Optional[str],
    threshold: float,
    screen_below: float,
    fingerprints: Optional[str],
    profile: Optional[str] = None,
):
    key = ("detector", pack_path, threshold, screen_below, fingerprints, profile)
    if key not in _cache:
        _cache[key] = unspin.Detector(
            _pack(pack_path),
            threshold=threshold,
            screen_below=screen_below,
            fingerprints=_shipped(fingerprints),
            profile=_shipped(profile),
        )
    return _cache[key]


def _signer(pack_path: Optional[str], window: Optional[int], stride: Optional[int]):
    key = ("signer", pack_path, window, stride)
    if key not in _cache:
        _cache[key] = unspin.Signer(_pack(pack_path), window=window, stride=stride)
    return _cache[key]


# ---------------------------------------------------------------------------------------------
# Reading


def read_manifest(spark: SparkSession, manifest: str) -> List[str]:
    """The non-blank, non-comment lines of a manifest file (one input path per line, as
    cc-pyspark's ``wet.paths``), read with Spark so that any Hadoop file system works."""
    lines = spark.sparkContext.textFile(manifest).collect()
    return [l.strip() for l in lines if l.strip() and not l.lstrip().startswith("#")]


def read_records(
    spark: SparkSession,
    paths: Sequence[str],
    *,
    format: Optional[str] = None,
    field: str = "text",
    id_field: str = "id",
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> DataFrame:
    """The records of the files ``paths`` (text, JSONL, WARC/WET, PDF; gzip or not), read by
    unspin-io on the executors, one task per file, as ``unspin scan`` reads them: the same ids
    and ``source`` (``file`` is the path's index in ``paths``). The files must be readable at
    the same path on every executor (local, NFS, a mounted bucket); for object stores read JSONL
    with :func:`read_jsonl` instead."""
    indexed = list(enumerate(paths))

    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows: List[Dict[str, Any]] = []
        pairs = ((f, p) for b in batches for f, p in zip(b.column("file").to_pylist(), b.column("path").to_pylist()))
        for file, path in pairs:
            for r in unspin.read_records(
                path,
                format=format,
                field=field,
                id_field=id_field,
                max_record_bytes=max_record_bytes,
                file=file,
            ):
                rows.append(
                    {
                        "id": r["id"],
                        "text": r["text"],
                        "error": r["error"],
                        "source": {
                            "path": r["path"],
                            "file": r["file"],
                            "record": r["record"],
                            "line": r["line"],
                            "offset": r["offset"],
                        },
                        "url": r["url"],
                        "date": r["date"],
                    }
                )
                if len(rows) >= 1024:
                    yield pa.RecordBatch.from_pylist(rows, schema=RECORDS)
                    rows = []
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=RECORDS)

    # One partition per file, as cc-pyspark gives each task one WARC file.
    files = spark.createDataFrame(
        spark.sparkContext.parallelize(indexed, max(1, len(indexed))), "file long, path string"
    )
    return files.mapInArrow(read, spark_schema(RECORDS))


def read_jsonl(spark: SparkSession, paths: Sequence[str], *, field: str = "text", id_field: str = "id") -> DataFrame:
    """JSONL read by Spark itself (any Hadoop file system: s3a://, hdfs://, gs://), only the two
    fields wanted (an explicit schema: no inference pass over the data; a numeric id is read as
    its JSON text). A record without an id gets the SHA-256 of its text, which is deterministic
    (never ``monotonically_increasing_id``, which differs from run to run)."""
    from pyspark.sql.types import StringType, StructField, StructType

    fields = [StructField(field, StringType())]
    if id_field != field:
        fields.append(StructField(id_field, StringType()))
    df = spark.read.schema(StructType(fields)).json(list(paths))
    text = F.col(field)
    return df.select(
        F.coalesce(F.col(id_field), F.sha2(F.coalesce(text, F.lit("")), 256)).alias("id"),
        text.alias("text"),
        F.when(text.isNull(), F.lit(f"no string field {field!r}")).alias("error"),
        F.struct(
            F.input_file_name().alias("path"),
            F.lit(None).cast("long").alias("file"),
            F.lit(None).cast("long").alias("record"),
            F.lit(None).cast("long").alias("line"),
            F.lit(None).cast("long").alias("offset"),
        ).alias("source"),
        F.lit(None).cast("string").alias("url"),
        F.lit(None).cast("string").alias("date"),
    )


# ---------------------------------------------------------------------------------------------
# Scoring


def score_batches(
    batches: Iterator[pa.RecordBatch],
    *,
    pack: Optional[str] = None,
    threshold: float = 0.5,
    screen_below: float = 0.0,
    fingerprints: Optional[str] = None,
    profile: Optional[str] = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` function: records (:data:`RECORDS`) to scores (:data:`SCORES`), one call
    into Rust per batch (the GIL released while it runs). A text longer than
    ``max_record_bytes`` (UTF-8) is an error row, as unspin-io makes it for files."""
    det = _detector(pack, threshold, screen_below, fingerprints, profile)
    for b in batches:
        recs = b.to_pylist()
        for r in recs:
            t = r["text"]
            # len(str) bounds its UTF-8 length from below (at most 4 bytes per code point).
            if t is not None and len(t) * 4 > max_record_bytes and len(t.encode("utf-8")) > max_record_bytes:
                r["text"] = None
                r["error"] = f"record longer than the limit of {max_record_bytes} bytes"
        ok = [r for r in recs if r["text"] is not None]
        dicts = iter(det.detect_dicts([r["text"] for r in ok]))
        out = []
        for r in recs:
            row = {
                "id": r["id"],
                "source": r["source"],
                "url": r["url"],
                "date": r["date"],
                "error": r["error"],
            }
            if r["text"] is not None:
                d = next(dicts)
                row.update(d)
                row["bytes"] = len(r["text"].encode("utf-8"))
                row["error"] = None
            out.append(row)
        yield pa.RecordBatch.from_pylist(out, schema=SCORES)


def score(
    records: DataFrame,
    *,
    pack: Optional[str] = None,
    threshold: float = 0.5,
    screen_below: float = 0.0,
    fingerprints: Optional[str] = None,
    profile: Optional[str] = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> DataFrame:
    """Scores every record of a :data:`RECORDS` data frame (from :func:`read_records` or
    :func:`read_jsonl`): one :data:`SCORES` row per record, errors kept as rows. ``pack``,
    ``fingerprints`` (a saved list) and ``profile`` (a learned spinner profile) are files, on
    every executor or shipped with ``--files``."""

    def run(batches):
        return score_batches(
            batches,
            pack=pack,
            threshold=threshold,
            screen_below=screen_below,
            fingerprints=fingerprints,
            profile=profile,
            max_record_bytes=max_record_bytes,
        )

    return records.mapInArrow(run, spark_schema(SCORES))


# ---------------------------------------------------------------------------------------------
# Tracing


def sign(
    docs: DataFrame,
    *,
    query: bool,
    pack: Optional[str] = None,
    window: Optional[int] = None,
    stride: Optional[int] = None,
) -> DataFrame:
    """LSH band rows ``(id, start, band_key)`` of documents ``(id, text)``: one per passage and
    band (``band_key = band << 32 | key``). Originals are signed every ``stride`` words, as the
    index stores them; queries every quarter window, as ``Index.trace`` signs them."""

    def run(batches):
        signer = _signer(pack, window, stride)
        step = signer.query_step if query else None
        for b in batches:
            ids = b.column("id").to_pylist()
            texts = b.column("text").to_pylist()
            sigs = signer.sign_batch([t or "" for t in texts], step=step)
            out_id, out_start, out_key = [], [], []
            for i, s in zip(ids, sigs):
                for start, band, key in s.bands():
                    out_id.append(i)
                    out_start.append(start)
                    out_key.append(band << 32 | key)
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(out_id, pa.string()),
                    pa.array(out_start, pa.int64()),
                    pa.array(out_key, pa.int64()),
                ],
                schema=BANDS,
            )

    return docs.select("id", "text").mapInArrow(run, spark_schema(BANDS))


def candidates(
    query_bands: DataFrame,
    source_bands: DataFrame,
    *,
    verify: int = 8,
    relative_votes: float = 0.2,
    max_bucket: int = 4096,
    max_content_bucket: int = 512,
    content_from: Optional[int] = None,
) -> DataFrame:
    """The band join: ``(query_id, source_id, bands, hint, rank)`` for the at most ``verify``
    best candidates per query (``rank`` 1 the best), ranked as ``Index::candidates`` ranks them:
    each band key a query
    passage shares with a source passage weighs ``ln(1 + passages / passages holding that
    key)`` (an IDF: common keys say little), a candidate is ranked by its best pair of passages'
    weight, then by the weight of all its pairs, and candidates under ``relative_votes`` of the
    best's weight are dropped. Buckets holding more than ``max_bucket`` source passages
    (``max_content_bucket`` for the content stream's one-value bands, from band
    ``content_from``, by default the default signer's) are dropped, as the index's lookup drops
    them (boilerplate, and the classic out-of-memory spot of a band join)."""
    if content_from is None:
        content_from = unspin.Signer().content_from
    passages = source_bands.select("id", "start").distinct().count()
    sizes = source_bands.groupBy("band_key").agg(F.count(F.lit(1)).alias("hits"))
    cap = F.when(
        F.shiftright(F.col("band_key"), 32) >= F.lit(content_from), F.lit(max_content_bucket)
    ).otherwise(F.lit(max_bucket))
    kept = sizes.where(F.col("hits") <= cap).select(
        "band_key", F.log1p(F.lit(float(max(passages, 1))) / F.col("hits")).alias("w")
    )
    src = source_bands.join(kept, "band_key").select(
        F.col("band_key"),
        F.col("w"),
        F.col("id").alias("source_id"),
        F.col("start").alias("source_start"),
    )
    q = query_bands.select(
        F.col("band_key"), F.col("id").alias("query_id"), F.col("start").alias("query_start")
    )
    pairs = (
        q.join(src, "band_key")
        .groupBy("query_id", "query_start", "source_id", "source_start")
        .agg(F.count(F.lit(1)).alias("n"), F.sum("w").alias("w"))
    )
    best_pair = Window.partitionBy("query_id", "source_id").orderBy(
        F.col("w").desc(), F.col("query_start"), F.col("source_start")
    )
    docs = (
        pairs.withColumn("total", F.sum("w").over(Window.partitionBy("query_id", "source_id")))
        .withColumn("r", F.row_number().over(best_pair))
        .where(F.col("r") == 1)
        .select(
            "query_id",
            "source_id",
            F.col("n").alias("bands"),
            "w",
            "total",
            (F.col("source_start") - F.col("query_start")).alias("hint"),
        )
    )
    rank = Window.partitionBy("query_id").orderBy(
        F.col("w").desc(), F.col("total").desc(), F.col("source_id")
    )
    ranked = (
        docs.withColumn("rank", F.row_number().over(rank))
        .withColumn("best", F.max("w").over(Window.partitionBy("query_id")))
        .where(F.col("rank") <= verify)
        .where(F.col("w") >= F.col("best") * F.lit(relative_votes))
    )
    return ranked.select("query_id", "source_id", "bands", "hint", "rank")


def screen_batches(
    batches: Iterator[pa.RecordBatch], *, min_shared_pairs: float = 0.06
) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` function: keeps the rows whose ``source_text`` holds at least
    ``min_shared_pairs`` of the pairs of adjacent words of their ``query_text`` (counted with
    multiplicity; Rust's ``PairScreen``), the screen ``Index.trace`` passes a candidate through
    before aligning it. The schema is the input's."""
    for b in batches:
        q = b.column("query_text").to_pylist()
        c = b.column("source_text").to_pylist()
        keep = unspin.screen_batch(
            [(x or "", y or "") for x, y in zip(q, c)], min_shared_pairs=min_shared_pairs
        )
        yield b.filter(pa.array(keep, type=pa.bool_()))


def verify_batches(
    batches: Iterator[pa.RecordBatch], *, pack: Optional[str] = None, profile: Optional[str] = None
) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` function: ``(query_id, source_id, bands, hint, query_text, source_text)``
    to :data:`VERIFIED` rows, each candidate aligned in Rust as ``Index.trace`` verifies it (with
    a learned spinner's rules when ``profile`` names a profile file)."""
    import json

    p = _pack(pack)
    key = ("profile", profile)
    if profile and key not in _cache:
        _cache[key] = unspin.Profile.load(_shipped(profile))
    prof = _cache.get(key)
    for b in batches:
        rows = b.to_pylist()
        al = unspin.align_batch(
            [(r["query_text"] or "", r["source_text"] or "", r["hint"]) for r in rows],
            pack=p,
            profile=prof,
        )
        out = []
        for r, a in zip(rows, al):
            edits = a.edits
            out.append(
                {
                    "query_id": r["query_id"],
                    "source_id": r["source_id"],
                    "bands": r["bands"],
                    "score": a.score,
                    "alignment": {
                        "words": a.words,
                        "matched": a.matched,
                        "explained": a.explained,
                        "unexplained": a.unexplained,
                        "conflicts": a.conflicts,
                        "source_start": a.source_start,
                        "source_end": a.source_end,
                        "substitutions": sum(1 for e in edits if e["kind"] == "substitution"),
                        "edits": json.dumps(edits, ensure_ascii=False),
                    },
                }
            )
        yield pa.RecordBatch.from_pylist(out, schema=VERIFIED)


def trace(
    queries: DataFrame,
    sources: DataFrame,
    *,
    pack: Optional[str] = None,
    window: Optional[int] = None,
    stride: Optional[int] = None,
    top: int = 5,
    verify: int = 8,
    min_score: float = 0.6,
    max_bucket: int = 4096,
    relative_votes: float = 0.2,
    profile: Optional[str] = None,
    screen: int = 32,
    min_shared_pairs: float = 0.06,
) -> DataFrame:
    """The likeliest sources of each query among ``sources`` (both ``(id, text)`` data
    frames): signatures, band join, top candidates, alignment in Rust. As ``unspin trace``
    does, up to ``screen`` candidates per query are screened by the pairs of adjacent words they
    share with it (``min_shared_pairs``) and the best ``verify`` that pass are aligned. One row
    per (query, source) with ``score >= min_score``, ``rank`` 1 for the best, at most ``top``
    per query. A query with no source has no row."""
    qb = sign(queries, query=True, pack=pack, window=window, stride=stride)
    sb = sign(sources, query=False, pack=pack, window=window, stride=stride)
    cands = candidates(
        qb, sb, verify=max(screen, verify), relative_votes=relative_votes, max_bucket=max_bucket
    )
    joined = cands.join(
        queries.select(F.col("id").alias("query_id"), F.col("text").alias("query_text")), "query_id"
    ).join(
        sources.select(F.col("id").alias("source_id"), F.col("text").alias("source_text")), "source_id"
    )
    columns = ["query_id", "source_id", "bands", "hint", "rank", "query_text", "source_text"]
    shape = joined.select(*columns).schema

    def screen_run(batches):
        return screen_batches(batches, min_shared_pairs=min_shared_pairs)

    passed = joined.select(*columns).mapInArrow(screen_run, shape)
    first = Window.partitionBy("query_id").orderBy(F.col("rank"))
    chosen = passed.withColumn("passed", F.row_number().over(first)).where(
        F.col("passed") <= verify
    )

    def run(batches):
        return verify_batches(batches, pack=pack, profile=profile)

    verified = chosen.select(
        "query_id", "source_id", "bands", "hint", "query_text", "source_text"
    ).mapInArrow(run, spark_schema(VERIFIED))
    rank = Window.partitionBy("query_id").orderBy(
        F.col("score").desc(), F.col("bands").desc(), F.col("source_id")
    )
    return (
        verified.where(F.col("score") >= min_score)
        .withColumn("rank", F.row_number().over(rank))
        .where(F.col("rank") <= top)
    )


def expand_inputs(inputs: Sequence[str]) -> List[str]:
    """Local inputs expanded (directories to their files, sorted); URIs are kept as they are."""
    out: List[str] = []
    for i in inputs:
        if "://" not in i and os.path.isdir(i):
            for root, _, files in sorted(os.walk(i)):
                out.extend(os.path.join(root, f) for f in sorted(files))
        else:
            out.append(i)
    return out

