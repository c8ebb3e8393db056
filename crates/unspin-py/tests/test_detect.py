"""Detection from Python, mirroring the Rust tests: the CLI's JSON keys and values, scores in
[0, 1], spun text scored above clean text, batches equal to single calls, the GIL released."""

from __future__ import annotations

import json
import threading
import time

import pytest

import unspin
from conftest import run_cli
from test_restore import SPUN, close

DETECT_KEYS = {"score", "flagged", "spans", "paragraphs", "fingerprints", "spin_rate", "words", "scorer", "stage"}


def test_detect_dict_has_the_cli_keys_and_values(root, cli, cli_env):
    text = (root / "examples/spun-news.txt").read_text(encoding="utf-8")
    got = unspin.detect(text)
    assert set(got) == DETECT_KEYS
    p = run_cli(cli, cli_env, "detect", "--json", "examples/spun-news.txt", ok=(0, 1))
    want = json.loads(p.stdout)
    assert want.pop("path") == "examples/spun-news.txt"
    assert close(got, want), (got, want)
    span_keys = {"start", "end", "spun", "original", "confidence", "log_odds", "alternatives"}
    assert all(set(s) == span_keys for s in got["spans"])


def test_scores_lie_in_unit_interval_and_rank_spun_above_clean(corpus):
    clean = unspin.detect_batch([t for _, t in corpus["clean"]])
    spun = unspin.detect_batch([t for _, t in corpus["spun"]])
    for d in clean + spun:
        assert 0.0 <= d["score"] <= 1.0
        assert d["stage"] == "lattice" and d["scorer"] == "trigram"
    mean = lambda ds: sum(d["score"] for d in ds) / len(ds)
    assert mean(spun) > mean(clean) + 0.2, (mean(spun), mean(clean))
    assert sum(d["flagged"] for d in spun) >= len(spun) // 2
    assert sum(d["flagged"] for d in clean) <= len(clean) // 4


def test_detection_object_matches_its_dict():
    d = unspin.Detector().detect(SPUN)
    x = d.to_dict()
    assert d.score == x["score"] and d.flagged == x["flagged"] and d.words == x["words"]
    assert [(e.start, e.end, e.original) for e in d.spans] == [(s["start"], s["end"], s["original"]) for s in x["spans"]]
    for e in d.spans:
        assert SPUN[e.char_start : e.char_end] == e.spun  # ASCII: the two offsets agree
        assert (e.char_start, e.char_end) == (e.start, e.end)
    assert d.paragraphs == x["paragraphs"]
    assert "Detection(" in repr(d)


def test_threshold_and_screening():
    lo = unspin.Detector(threshold=0.0).detect(SPUN)
    hi = unspin.Detector(threshold=1.0).detect(SPUN)
    assert lo.flagged and (hi.flagged == (hi.score >= 1.0))
    assert unspin.Detector().threshold == 0.5
    clean = "The committee met on Tuesday and approved the budget for the next year."
    screened = unspin.Detector(screen_below=0.99).detect(clean)
    assert screened.stage == "screen" and screened.spans == []
    with pytest.raises(ValueError, match="screen_below"):
        unspin.Detector(screen_below=-1)


def test_batch_equals_single_calls(corpus):
    texts = [t for _, t in corpus["docs"][:6]]
    single = [unspin.detect(t) for t in texts]
    assert unspin.detect_batch(texts) == single
    assert unspin.detect_batch(texts, threads=2) == single
    det = unspin.Detector()
    assert [d.to_dict() for d in det.detect_batch(texts, threads=2)] == single
    assert det.detect_dicts(texts) == single


def test_gil_is_released_during_work(brown):
    """A Python thread keeps running while Rust analyses a long text: with the GIL held it could
    not run at all during the call."""
    # Several Brown texts: one 20,000-character excerpt took under 50 ms once restore got faster.
    text = "\n\n".join(t for _, t in brown[:8])
    det = unspin.Detector()
    det.detect("warm up the channel tables")
    ticks = 0
    stop = threading.Event()

    def count():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        time.sleep(0.05)
        before = ticks
        t0 = time.perf_counter()
        det.detect(text)
        elapsed = time.perf_counter() - t0
        during = ticks - before
    finally:
        stop.set()
        t.join()
    assert elapsed > 0.05, "the text should take a while to analyse"
    # Without the GIL released, `during` would be ~0 (only switch intervals before the call).
    assert during > 10000, (during, elapsed)


def test_two_threads_overlap_in_time(corpus):
    """Two threads detecting at once both run inside Rust at the same time: their calls'
    intervals overlap."""
    text = "\n".join(t for _, t in corpus["spun"][:4])
    det = unspin.Detector()
    det.detect("warm up")
    spans = {}

    def work(k):
        t0 = time.perf_counter()
        det.detect(text)
        spans[k] = (t0, time.perf_counter())

    ts = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    (a0, a1), (b0, b1) = spans[0], spans[1]
    overlap = min(a1, b1) - max(a0, b0)
    assert overlap > 0.5 * min(a1 - a0, b1 - b0), spans
