"""The Spark jobs, run for real: PySpark in local mode (local[2]) on a small corpus of Brown texts,
Parquet written and read back, and checked against the CLI on the same input (`unspin scan` for
scores and spans, `unspin trace` for sources).

Marked `spark`: `pytest -m spark` runs them alone, `pytest -m "not spark"` skips them. One Spark
session serves the whole module (starting one takes ~10 s).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import pytest

import unspin
from conftest import ROOT, excerpt, run_cli

pytestmark = pytest.mark.spark

# scripts/test-python.sh installs PySpark and sets UNSPIN_REQUIRE_SPARK: there a missing
# PySpark is a failure; elsewhere these tests are skipped without it.
if os.environ.get("UNSPIN_REQUIRE_SPARK"):
    import pyarrow.parquet as pq
    import pyspark  # noqa: F401
else:
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("pyspark")


def load_job(name):
    """spark/<name>.py as a module (the jobs are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"unspin_job_{name}", ROOT / "spark" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    # Executors' Python workers must run this interpreter (it has the package); the builder's
    # spark.pyspark.python is ignored when the session is started from plain Python.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    s = (
        SparkSession.builder.master("local[2]")
        .appName("unspin-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def scan(cli, env, *inputs):
    """`unspin scan` lines by id."""
    p = run_cli(cli, env, "scan", *map(str, inputs), "-j", "2", "--progress", "never", ok=(0, 1, 2))
    return {json.loads(l)["id"]: json.loads(l) for l in p.stdout.splitlines()}


def same_scores(row, want):
    """A Parquet row agrees with a scan line: score (f32 → f64), flagged, spans, words."""
    assert abs(row["score"] - want["score"]) <= 1e-6 * max(1.0, want["score"]), row["id"]
    assert row["flagged"] == want["flagged"]
    assert row["words"] == want["words"] and row["stage"] == want["stage"]
    assert [(s["start"], s["end"], s["spun"], s["original"]) for s in row["spans"]] == [
        (s["start"], s["end"], s["spun"], s["original"]) for s in want["spans"]
    ], row["id"]
    for a, b in zip(row["spans"], want["spans"]):
        assert abs(a["log_odds"] - b["log_odds"]) <= 1e-5
    assert len(row["paragraphs"]) == len(want["paragraphs"])
    for a, b in zip(row["paragraphs"], want["paragraphs"]):
        assert abs(a["score"] - b["score"]) <= 1e-6
        assert abs(a["own_score"] - b["own_score"]) <= 1e-6
    assert row["bytes"] == want["bytes"]


def test_score_job_matches_scan(spark, corpus, cli, cli_env, tmp_path):
    manifest = tmp_path / "inputs.paths"
    manifest.write_text(f"{corpus['jsonl']}\n# a comment\n{corpus['wet']}\n")
    out = tmp_path / "scores"
    assert load_job("score").main(["--manifest", str(manifest), "-o", str(out), "--batch", "8"], spark=spark) == 0
    rows = pq.read_table(out).to_pylist()
    want = scan(cli, cli_env, corpus["jsonl"], corpus["wet"])
    assert sorted(r["id"] for r in rows) == sorted(want)
    assert len(rows) == len(corpus["docs"]) + 1 + 6
    for r in rows:
        w = want[r["id"]]
        assert r["source"]["file"] == w["source"]["file"]
        assert r["source"]["record"] == w["source"]["record"]
        assert r["source"]["offset"] == w["source"]["offset"]
        if "error" in w:
            assert r["error"] == w["error"] and r["score"] is None
            continue
        assert r["error"] is None
        same_scores(r, w)
    flagged = {r["id"] for r in rows if r["flagged"]}
    assert flagged and flagged <= {i for i, _ in corpus["spun"]} | {i for i, _ in corpus["clean"]}
    assert sum(i.startswith("spun-") for i in flagged) >= 4


def test_score_jsonl_read_by_spark_and_partitions_agree(spark, corpus, cli, cli_env, tmp_path):
    want = scan(cli, cli_env, corpus["jsonl"])
    job = load_job("score")
    results = []
    for parts in (1, 3):
        out = tmp_path / f"scores-{parts}"
        job.main(["--jsonl", str(corpus["jsonl"]), "-o", str(out), "--partitions", str(parts)], spark=spark)
        rows = sorted(pq.read_table(out).to_pylist(), key=lambda r: r["id"])
        results.append([(r["id"], r["score"], r["error"]) for r in rows])
        for r in rows:
            if r["error"] is None:
                same_scores(r, want[r["id"]])
        assert len(rows) == len(corpus["docs"]) + 1
    assert results[0] == results[1]


def test_trace_job_finds_sources_like_the_cli(spark, brown, cli, cli_env, tmp_path):
    originals = [(f"orig-{n}", excerpt(t, 2500)) for n, t in brown[:16]]
    unindexed = [(f"new-{n}", excerpt(t, 2500)) for n, t in brown[16:19]]
    suspects = [(f"spun-{i}", unspin.spin(t, seed=40 + k, rate=0.3)[0], i) for k, (i, t) in enumerate(originals[:8])]
    suspects += [(f"part-{i}", excerpt(unspin.spin(t, seed=3, rate=0.2)[0], 600), i) for i, t in originals[8:11]]
    truth = {q: src for q, _, src in suspects}
    ofile, sfile = tmp_path / "originals.jsonl", tmp_path / "suspects.jsonl"
    ofile.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in originals))
    sfile.write_text(
        "".join(json.dumps({"id": q, "text": t}) + "\n" for q, t, _ in suspects)
        + "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in unindexed)
    )
    out = tmp_path / "sources"
    argv = ["--originals", str(ofile), "--candidates", str(sfile), "-o", str(out), "--partitions", "2"]
    assert load_job("trace").main(argv, spark=spark) == 0
    rows = pq.read_table(out).to_pylist()
    best = {r["query_id"]: r for r in rows if r["rank"] == 1}
    assert {q: r["source_id"] for q, r in best.items()} == truth
    assert all(0.6 <= r["score"] <= 1.0 for r in rows)
    assert all(r["alignment"]["substitutions"] > 0 for r in best.values())
    # The CLI, on an index of the same originals, finds the same best sources with the same
    # alignment scores (its batch lines round to 4 decimals).
    idx = tmp_path / "originals.idx"
    run_cli(cli, cli_env, "index", "build", str(ofile), "-o", str(idx), "-j", "2", "--progress", "never")
    p = run_cli(cli, cli_env, "trace", "--index", str(idx), "--queries", str(sfile), "-j", "2", ok=(0, 1))
    # Both screen the same candidates and align the same ones: every match agrees, not only the
    # best.
    for line in map(json.loads, p.stdout.splitlines()):
        q = line["query_id"]
        if not line["matches"]:
            assert q not in best, q
            continue
        assert best[q]["source_id"] == line["matches"][0]["id"], q
        assert abs(best[q]["score"] - line["matches"][0]["score"]) <= 1e-4, q
        ours = sorted((r for r in rows if r["query_id"] == q), key=lambda r: r["rank"])
        assert [r["source_id"] for r in ours] == [m["id"] for m in line["matches"]], q


def test_screen_batches_keep_candidates_that_share_word_pairs():
    import pyarrow as pa

    from unspin.spark import screen_batches

    q = "Six Russian troopers who fled the warfare in Ukraine have been granted visas"
    rows = [
        {"query_id": "q", "rank": 1, "query_text": q, "source_text": "Completely unrelated words about pasta"},
        {"query_id": "q", "rank": 2, "query_text": q, "source_text": q.replace("troopers", "soldiers")},
        {"query_id": "r", "rank": 1, "query_text": "one", "source_text": None},
    ]
    batch = pa.RecordBatch.from_pylist(rows)
    out = [r for b in screen_batches(iter([batch]), min_shared_pairs=0.3) for r in b.to_pylist()]
    # The unrelated text is dropped; a one-word query is not screened; the schema is kept.
    assert [(r["query_id"], r["rank"]) for r in out] == [("q", 2), ("r", 1)]


def test_jsonl_ids_are_deterministic(spark, tmp_path):
    """Spark's JSONL reader: a numeric id is kept as its text, a missing one becomes the
    SHA-256 of the text (never a run-dependent number); a record without text is an error row,
    and a learned profile reaches the executors' detector."""
    import hashlib

    import unspin.spark as us

    f = tmp_path / "ids.jsonl"
    f.write_text(
        json.dumps({"id": 7, "text": "A gaggle of deserters arrived."}) + "\n"
        + json.dumps({"text": "No id here."}) + "\n"
        + json.dumps({"id": "x", "body": "no text"}) + "\n"
    )
    rows = {r["id"]: r for r in us.read_jsonl(spark, [str(f)]).collect()}
    sha = hashlib.sha256("No id here.".encode()).hexdigest()
    assert set(rows) == {"7", sha, "x"}
    assert rows["x"]["text"] is None and rows["x"]["error"]
    profile = tmp_path / "p.json"
    unspin.Profile.learn([("a gaggle of deserters", "a group of deserters")] * 3).save(str(profile))
    out = tmp_path / "scores"
    load_job("score").main(["--jsonl", str(f), "-o", str(out), "--profile", str(profile)], spark=spark)
    got = {r["id"]: r for r in pq.read_table(out).to_pylist()}
    assert [(s["spun"], s["original"]) for s in got["7"]["spans"]] == [("gaggle", "group")]
    assert got["x"]["error"] and got["x"]["score"] is None
    # Records over the size limit are error rows, with unspin-io's message, by either reader.
    limit = "20"
    small = tmp_path / "small"
    load_job("score").main(["--jsonl", str(f), "-o", str(small), "--max-record-bytes", limit], spark=spark)
    got = {r["id"]: r for r in pq.read_table(small).to_pylist()}
    # (unspin-io limits a JSONL line, so it cannot read the id of a line that long.)
    io_error = next(iter(unspin.read_records(str(f), max_record_bytes=int(limit))))["error"]
    assert got["7"]["error"] == io_error == "record longer than the limit of 20 bytes"
    assert got["7"]["score"] is None and got[sha]["error"] is None  # "No id here." is 11 bytes
