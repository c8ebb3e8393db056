"""Tracing from Python, mirroring the Rust tests: an index built, added to, queried; the CLI
reads the same index file and finds the same sources; alignments; signatures deterministic,
serialisable and picklable; record reading as `unspin scan` reads."""

from __future__ import annotations

import json
import pickle

import pytest

import unspin
from conftest import excerpt, run_cli


@pytest.fixture(scope="module")
def docs(brown):
    return [(f"brown-{n}", excerpt(t, 4000)) for n, t in brown[:10]]


@pytest.fixture(scope="module")
def index_path(docs, tmp_path_factory):
    path = tmp_path_factory.mktemp("index") / "brown.idx"
    b = unspin.IndexBuilder()
    b.add_batch(docs[:8], threads=2)
    assert len(b) == 8
    meta = b.write(str(path))
    assert meta["docs"] == 8 and meta["passages"] >= 8
    return path


def test_index_round_trip_finds_spun_copies(docs, index_path):
    ix = unspin.Index.open(str(index_path))
    assert len(ix) == 8 and ix.doc_id(0) == docs[0][0] and ix.doc_text(3) == docs[3][1]
    for i, (ident, text) in enumerate(docs[:8]):
        spun, _ = unspin.spin(text, seed=i, rate=0.3)
        m = ix.trace(spun)
        assert m and m[0].id == ident, (ident, m)
        assert 0.6 <= m[0].score <= 1.0 and m[0].alignment.explained > 0
        assert m[0].alignment.conflicts == 0
        # An excerpt of a spun copy is traced too.
        m = ix.trace(excerpt(spun, 800))
        assert m and m[0].id == ident
    # A document is its own top hit, with a perfect alignment.
    m = ix.trace(docs[2][1])
    assert m[0].id == docs[2][0] and m[0].score == 1.0
    # Texts the index does not hold have no source.
    assert ix.trace(docs[9][1]) == []
    assert ix.trace("") == []
    with pytest.raises(ValueError):
        ix.doc_id(99)


def test_trace_batch_equals_single_calls(docs, index_path):
    ix = unspin.Index.open(str(index_path))
    qs = [unspin.spin(t, seed=1, rate=0.3)[0] for _, t in docs[:4]] + [docs[9][1]]
    single = [[(m.id, m.score) for m in ix.trace(q)] for q in qs]
    batch = [[(m.id, m.score) for m in ms] for ms in ix.trace_batch(qs, threads=2)]
    assert batch == single


def test_cli_reads_the_python_index_and_agrees(docs, index_path, cli, cli_env, tmp_path):
    ix = unspin.Index.open(str(index_path))
    qs = tmp_path / "q.jsonl"
    queries = [(f"q{i}", unspin.spin(t, seed=10 + i, rate=0.3)[0]) for i, (_, t) in enumerate(docs[:8])]
    queries.append(("unindexed", docs[9][1]))
    qs.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in queries))
    p = run_cli(cli, cli_env, "trace", "--index", str(index_path), "--queries", str(qs), "-j", "1", ok=(0, 1))
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    assert [l["query_id"] for l in lines] == [i for i, _ in queries]
    for (qid, text), line in zip(queries, lines):
        ours = ix.trace(text)
        # The CLI's batch lines round scores to 4 decimals.
        assert [m.id for m in ours] == [m["id"] for m in line["matches"]], qid
        assert all(abs(m.score - c["score"]) <= 1e-4 for m, c in zip(ours, line["matches"])), qid
    # A match's dict is what `unspin trace --json` prints for it, alignment included.
    (root_q := tmp_path / "one.txt").write_text(queries[0][1])
    p = run_cli(cli, cli_env, "trace", "--index", str(index_path), "--json", str(root_q), ok=(0, 1))
    want = json.loads(p.stdout)["matches"][0]
    got = ix.trace(queries[0][1])[0].to_dict()
    assert set(got) == set(want) and set(got["alignment"]) == set(want["alignment"])
    assert got["id"] == want["id"] and got["score"] == want["score"]
    assert got["alignment"]["edits"] == want["alignment"]["edits"]
    assert set(ix.trace(queries[0][1])[0].to_dict(alignment=False)) == {"id", "score"}


def test_add_to_an_existing_index(docs, index_path, tmp_path):
    b = unspin.IndexBuilder.open(str(index_path))
    assert len(b) == 8
    b.add(docs[9][0], docs[9][1])
    out = tmp_path / "more.idx"
    b.write(str(out))
    ix = unspin.Index.open(str(out))
    assert len(ix) == 9
    spun, _ = unspin.spin(docs[9][1], seed=5, rate=0.3)
    assert ix.trace(spun)[0].id == docs[9][0]
    assert ix.trace(unspin.spin(docs[0][1], seed=5, rate=0.3)[0])[0].id == docs[0][0]


def test_index_errors(index_path, tmp_path):
    with pytest.raises(OSError):
        unspin.Index.open(str(tmp_path / "missing.idx"))
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\0" * 4096)
    with pytest.raises(ValueError, match="not an unspin index"):
        unspin.Index.open(str(bad))
    with pytest.raises(ValueError, match="stride"):
        unspin.IndexBuilder(window=10, stride=20)
    with pytest.raises(ValueError, match="min_score"):
        unspin.Index.open(str(index_path)).trace("some text", min_score=2.0)


def test_align_explains_substitutions(docs):
    src = docs[0][1]
    spun, subs = unspin.spin(src, seed=2, rate=0.3)
    a = unspin.align(spun, src)
    assert a.score > 0.8 and a.explained > 0 and a.words > 100
    kinds = {e["kind"] for e in a.edits}
    assert "substitution" in kinds
    for e in a.edits:
        if e["kind"] == "substitution":
            assert spun.encode()[e["start"] : e["end"]].decode() == e["spun"]
            assert src.encode()[e["source_start"] : e["source_end"]].decode() == e["source"]
    unrelated = unspin.align(docs[5][1], src)
    assert unrelated.score < 0.5
    batch = unspin.align_batch([(spun, src, 0), (docs[5][1], src, 0)], threads=2)
    assert [x.score for x in batch] == [a.score, unrelated.score]
    assert a.to_dict()["score"] == a.score


def test_screen_batch_counts_shared_word_pairs(docs):
    q = "Six Russian troopers who fled the warfare in Ukraine have been granted visas"  # 12 pairs
    kin = "Six Russian soldiers who fled the war in Ukraine have been granted visas"  # 8 of them
    other = "Completely unrelated words about cooking pasta at home tonight"
    assert unspin.screen_batch([(q, kin), (q, other), (q, q)], min_shared_pairs=0.5) == [
        True,
        False,
        True,
    ]
    assert unspin.screen_batch([(q, kin)], min_shared_pairs=0.6) == [True]  # needs 7
    assert unspin.screen_batch([(q, kin)], min_shared_pairs=0.75) == [False]  # needs 9
    # The default share (0.06) needs nothing of a 12-pair query: short queries are not screened.
    assert unspin.screen_batch([(q, other)]) == [True]
    # A new query gets its own table.
    src = docs[0][1]
    spun, _ = unspin.spin(src, seed=2, rate=0.3)
    got = unspin.screen_batch([(q, kin), (spun, src), (spun, other), (q, other)], min_shared_pairs=0.4)
    assert got == [True, True, False, False]


def test_signatures_deterministic_serialisable_picklable(docs):
    s1 = unspin.Signer()
    s2 = unspin.Signer()
    a = s1.sign(docs[0][1])
    b = s2.sign(docs[0][1])
    assert a == b and len(a) >= 1
    assert s1.sign(docs[1][1]) != a
    assert s1.sign_batch([d for _, d in docs[:3]], threads=2) == [s1.sign(d) for _, d in docs[:3]]
    data = a.to_bytes()
    assert unspin.Signature.from_bytes(data) == a
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(ValueError, match="signature"):
        unspin.Signature.from_bytes(b"garbage")
    with pytest.raises(ValueError, match="signature"):
        unspin.Signature.from_bytes(data[:-3])
    bands = a.bands()
    assert bands and all(0 <= band < s1.bands and 0 <= key < 2**32 for _, band, key in bands)
    starts = {p[0] for p in a.passages}
    assert {s for s, _, _ in bands} <= starts
    # A query is signed more densely than an indexed document.
    assert s1.query_step == 25 and len(s1.sign(docs[0][1], step=s1.query_step)) >= len(a)
    with pytest.raises(ValueError):
        s1.sign("x", step=0)


def test_push_with_signatures_made_elsewhere_equals_add(docs, tmp_path):
    signer = unspin.Signer()
    sigs = [pickle.loads(pickle.dumps(signer.sign(t))) for _, t in docs[:4]]
    pushed = unspin.IndexBuilder()
    for (ident, text), sig in zip(docs[:4], sigs):
        pushed.push(ident, text, sig)
    added = unspin.IndexBuilder()
    added.add_batch(docs[:4])
    pushed.write(str(tmp_path / "pushed.idx"))
    added.write(str(tmp_path / "added.idx"))
    assert (tmp_path / "pushed.idx").read_bytes() == (tmp_path / "added.idx").read_bytes()
    with pytest.raises(ValueError, match="parameters"):
        pushed.push("x", "y", unspin.Signer(window=80, stride=40).sign(docs[0][1]))


def test_read_records_as_scan_reads_them(corpus):
    recs = list(unspin.read_records(str(corpus["jsonl"])))
    assert [r["id"] for r in recs] == [i for i, _ in corpus["docs"]] + ["no-text"]
    assert recs[0]["text"] == corpus["docs"][0][1] and recs[0]["line"] == 1 and recs[0]["error"] is None
    assert recs[-1]["text"] is None and "text" in recs[-1]["error"]
    wet = list(unspin.read_records(str(corpus["wet"]), file=3))
    assert [r["id"] for r in wet] == [f"<urn:uuid:{i}>" for i, _ in corpus["docs"][:6]]
    assert wet[0]["url"] == f"http://example.com/{corpus['docs'][0][0]}" and wet[0]["file"] == 3
    assert [r["text"] for r in wet] == [t for _, t in corpus["docs"][:6]]
    with pytest.raises(ValueError):
        unspin.read_records(str(corpus["jsonl"]), format="docx")
    missing = list(unspin.read_records("/nonexistent/file.jsonl"))
    assert len(missing) == 1 and missing[0]["text"] is None and missing[0]["error"]


def test_builder_is_safe_to_share_between_threads(docs, tmp_path):
    """One thread adds while another writes: the builder's lock is only taken without the GIL,
    so neither can deadlock the other, and every document ends up in the index."""
    import threading

    b = unspin.IndexBuilder()
    errors = []

    def adder():
        try:
            for k in range(3):
                for ident, text in docs[:8]:
                    b.add(f"{ident}-{k}", text)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def writer():
        try:
            for k in range(5):
                b.write(str(tmp_path / f"w{k}.idx"))
        except Exception as e:  # pragma: no cover
            errors.append(e)

    ts = [threading.Thread(target=adder), threading.Thread(target=writer)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in ts), "deadlock"
    assert not errors
    assert len(b) == 24
    b.write(str(tmp_path / "all.idx"))
    assert len(unspin.Index.open(str(tmp_path / "all.idx"))) == 24


def test_trace_with_a_profile_explains_its_substitutions(docs, index_path):
    """A learned spinner's rules count as explained in the verifying alignment (as `unspin trace
    --profile`): a substitution no thesaurus knows stops costing score."""
    src = docs[0][1]
    words = src.split()
    # Replace a recurring word with a nonsense word no thesaurus relates to it.
    target = next(w for w in words if w.isalpha() and len(w) > 5 and words.count(w) >= 2)
    spun = src.replace(f" {target} ", " zorblax ")
    pairs = [(f"the zorblax stood", f"the {target.lower()} stood")] * 3
    p = unspin.Profile.learn(pairs)
    plain = unspin.align(spun, src)
    learned = unspin.align(spun, src, profile=p)
    assert learned.explained > plain.explained and learned.score >= plain.score
    ix = unspin.Index.open(str(index_path))
    assert ix.trace(spun, profile=p)[0].score >= ix.trace(spun)[0].score
