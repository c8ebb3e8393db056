"""Restoration from Python, mirroring the Rust tests: unchanged bytes kept, spans that slice the
input, the CLI's JSON shape and values, batches equal to single calls, errors as exceptions."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

import unspin
from conftest import excerpt, run_cli

SPUN = "Six Russian troopers who fled the warfare in Ukraine have been granted momentary visas."


def close(a, b, tol=1e-6):
    """JSON values equal, floats within `tol` (the CLI prints f32, Python holds f64)."""
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= tol * max(1.0, abs(a))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    return a == b


def test_restore_undoes_known_swaps():
    out = unspin.restore(SPUN)
    assert "troopers" in out  # not every swap is undone (see BENCHMARKS.md) …
    assert "war in Ukraine" in out and "temporary visas" in out  # … but these are


def test_restore_matches_cli_text_and_json(root, cli, cli_env):
    text = (root / "examples/spun-news.txt").read_text(encoding="utf-8")
    p = run_cli(cli, cli_env, "restore", "examples/spun-news.txt")
    assert unspin.restore(text) == p.stdout
    want = json.loads(run_cli(cli, cli_env, "restore", "--json", "examples/spun-news.txt").stdout)
    got = unspin.Restorer().restore(text).to_dict()
    assert close(got, want), (got, want)


def test_unchanged_bytes_and_span_offsets():
    # Non-ASCII before the spans: byte and code-point offsets differ.
    text = "Café crème — naïve troopers fled the warfare; they got momentary visas.\n"
    r = unspin.Restorer().restore(text)
    assert r.spans, "expected at least one restored span"
    raw = text.encode("utf-8")
    out = b""
    at = 0
    for s in r.spans:
        assert raw[s.start : s.end].decode("utf-8") == s.spun  # bytes, as in the CLI's JSON
        assert text[s.char_start : s.char_end] == s.spun  # code points, for Python strings
        assert s.char_start < s.start  # the accents make them differ here
        assert 0.0 <= s.confidence <= 1.0
        assert s.source == "model"
        out += raw[at : s.start] + s.restored.encode("utf-8")
        at = s.end
    out += raw[at:]
    assert out.decode("utf-8") == r.text
    # Spans are in order and do not overlap.
    ends = [s.end for s in r.spans]
    starts = [s.start for s in r.spans]
    assert all(e <= s for e, s in zip(ends, starts[1:]))


def test_clean_text_changes_little(brown):
    text = excerpt(brown[0][1], 3000)
    r = unspin.Restorer().restore(text)
    assert r.words > 300
    assert len(r.spans) <= 0.05 * r.words, f"{len(r.spans)} changes in {r.words} clean words"


def test_batch_equals_single_calls(corpus):
    texts = [t for _, t in corpus["docs"][:6]]
    single = [unspin.restore(t) for t in texts]
    assert unspin.restore_batch(texts) == single
    assert unspin.restore_batch(texts, threads=2) == single
    rs = unspin.Restorer().restore_batch(texts, threads=2)
    assert [r.text for r in rs] == single


def test_one_spinners_texts_restore_together(root):
    # Six pages of one content farm: together, "troopers" is decided once for all of them.
    spun = (root / "examples/spun-news.txt").read_text(encoding="utf-8")
    alone = unspin.Restorer().restore(spun)
    assert "soldiers" not in alone.text
    pooled = unspin.Restorer().restore_pooled([spun] * 6)
    assert len(pooled) == 6
    for r in pooled:
        assert "Russian soldiers" in r.text, r.text
        for s in r.spans:
            assert spun.encode()[s.start : s.end].decode() == s.spun
    assert unspin.Restorer().restore_pooled([]) == []


def test_empty_and_whitespace():
    assert unspin.restore("") == ""
    assert unspin.restore(" \n\t") == " \n\t"
    assert unspin.detect("")["score"] is not None


def test_bad_input_raises():
    with pytest.raises(TypeError):
        unspin.restore(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        unspin.restore(b"bytes are not text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        unspin.restore_batch("not a list")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown thesaurus"):
        unspin.Restorer(thesauri=["mythes", "nonesuch"])
    with pytest.raises(ValueError):
        unspin.Detector(threshold=1.5)


def test_pack_errors(tmp_path):
    with pytest.raises(OSError):
        unspin.Pack(str(tmp_path / "missing.unspin"))
    bad = tmp_path / "bad.unspin"
    bad.write_bytes(b"not a pack at all" * 100)
    with pytest.raises(ValueError, match="not an unspin model pack"):
        unspin.Pack(str(bad))


def test_default_pack_is_shared_and_env_is_honoured(root, monkeypatch):
    assert unspin.default_pack() is unspin.default_pack()
    assert unspin.default_pack_path().name == "default.unspin"
    monkeypatch.setenv("UNSPIN_PACK", str(root / "models/default.unspin"))
    assert unspin.default_pack_path() == root / "models/default.unspin"
    p = unspin.Pack(str(root / "models/default.unspin"))
    assert unspin.Restorer(p).restore(SPUN).text == unspin.restore(SPUN)
    assert {"format", "sources"} <= set(p.meta)


def test_thesauri_limit_what_is_walked_back():
    all_ = unspin.Restorer().restore(SPUN)
    few = unspin.Restorer(thesauri=["wordnet"]).restore(SPUN)
    assert len(few.spans) <= len(all_.spans) + 1


def test_profile_learn_save_load_merge(tmp_path):
    # A fixed-dictionary spinner always writes "gaggle" for "group".
    pairs = [
        ("a gaggle of deserters arrived", "a group of deserters arrived"),
        ("the gaggle met at noon", "the group met at noon"),
        ("one gaggle left early", "one group left early"),
    ]
    p = unspin.Profile.learn(pairs)
    assert ("gaggle", "group", 3) in p.rules
    assert len(p) >= 1 and p.pairs == 3
    # What stood unchanged is counted too (here "deserters", "met", …), and never "gaggle".
    assert p.kept["deserters"] == 1 and p.kept["met"] == 1 and "gaggle" not in p.kept
    path = tmp_path / "p.json"
    p.save(str(path))
    q = unspin.Profile.load(str(path))
    assert q.rules == p.rules and q.kept == p.kept
    m = p.merge(q)
    assert ("gaggle", "group", 6) in m.rules and m.kept["met"] == 2
    r = unspin.Restorer(profile=q).restore("They met a gaggle of deserters at the border.")
    assert "group of deserters" in r.text
    # A profile file works as well as a Profile.
    assert unspin.Restorer(profile=str(path)).restore("a gaggle of deserters").text == "a group of deserters"
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ValueError):
        unspin.Profile.load(str(bad))
    with pytest.raises(OSError):
        unspin.Profile.load(str(tmp_path / "missing.json"))


def test_fingerprints_import_find_restore(root, tmp_path):
    csv = root / "crates/unspin/tests/data/pps_sample.csv"
    fp = unspin.Fingerprints.import_csv(str(csv))
    assert len(fp) == 50  # 51 rows, one malformed (row 30), reported and skipped
    assert [(row, col) for row, col, _ in fp.errors] == [(30, 29)]
    assert "ADN" in fp.errors[0][2]
    assert fp.provenance["source"] == "pps_sample.csv"
    text = "We measured the criticism circle of the plant. Patients with liver sickness were seen."
    hits = fp.find(text)
    assert [h.expected for h in hits] == ["feedback loop", "liver disease"]
    for h in hits:
        assert text[h.char_start : h.char_end] == h.matched
        assert text.encode()[h.start : h.end].decode() == h.matched
    assert fp.find_batch([text, "nothing here"]) and fp.find_batch(["nothing here"]) == [[]]
    r = unspin.Restorer(fingerprints=fp).restore(text)
    assert "feedback loop" in r.text and "liver disease" in r.text
    assert [s.source for s in r.spans if s.source == "fingerprint"] == ["fingerprint"] * 2
    d = unspin.Detector(fingerprints=fp).detect(text)
    assert d.flagged and len(d.fingerprints) == 2
    assert [f["expected"] for f in d.to_dict()["fingerprints"]] == ["feedback loop", "liver disease"]
    saved = tmp_path / "list.json"
    fp.save(str(saved))
    again = unspin.Fingerprints.load(str(saved))
    assert len(again) == len(fp)
    assert [h.matched for h in again.find(text)] == [h.matched for h in hits]
    # A saved list path works as the argument too.
    assert unspin.Detector(fingerprints=str(saved)).detect(text).flagged
    bad = tmp_path / "bad.csv"
    bad.write_text("tortured_phrase,expected_phrase,num_papers\n\"\"\"open\"\" AND\",x,1\n")
    with pytest.raises(ValueError, match="no fingerprint imported"):
        unspin.Fingerprints.import_csv(str(bad))
    with pytest.raises(ValueError):
        unspin.Fingerprints.load(str(csv))  # a CSV is not a saved list
    with pytest.raises(OSError):
        unspin.Fingerprints.import_csv(str(tmp_path / "missing.csv"))


def test_a_lists_profile_finds_tortured_phrases_it_does_not_hold(root):
    fp = unspin.Fingerprints.import_csv(str(root / "crates/unspin/tests/data/pps_sample.csv"))
    pairs = fp.substitution_pairs()
    assert ("fleecy set", "fuzzy set") in pairs and len(pairs) == 39
    paper_mill = unspin.Profile.learn(pairs)
    phrase = "We use fleecy logic here."
    assert unspin.Restorer().restore(phrase).text == phrase
    assert unspin.Restorer(profile=paper_mill).restore(phrase).text == "We use fuzzy logic here."


def test_spin_then_restore_recovers_words(brown):
    text = excerpt(brown[1][1], 1500)
    spun, subs = unspin.spin(text, seed=3, rate=0.2)
    assert subs and spun != text
    for s in subs:
        assert spun.encode()[s["spun_start"] : s["spun_end"]].decode() == s["spun"]
    assert unspin.spin(text, seed=3, rate=0.2)[0] == spun  # seeded
    # A spinner with no taste for common words picks other synonyms.
    assert unspin.spin(text, seed=3, rate=0.2, frequency_exponent=0.0)[0] != spun
    restored = unspin.restore(spun)
    undone = sum(1 for s in subs if s["original"] in restored)
    assert undone >= len(subs) // 4
    with pytest.raises(ValueError):
        unspin.spin(text, rate=2.0)


def test_results_are_readable():
    r = unspin.Restorer().restore(SPUN)
    assert "Restoration(" in repr(r) and "Span(" in repr(r.spans[0])
    assert isinstance(r.to_dict()["spans"], list)
    with pytest.raises(TypeError):
        pickle.dumps(r)  # results are plain data through to_dict(), not pickled objects


def neural_model(root):
    """The SmolLM2 model from scripts/fetch-neural.sh, or None (a failure under
    UNSPIN_REQUIRE_NEURAL, which CI sets, so the test cannot pass vacuously)."""
    p = Path(os.environ.get("UNSPIN_NEURAL_MODEL", root / "target/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    if p.exists():
        return p
    assert not os.environ.get("UNSPIN_REQUIRE_NEURAL"), f"no model at {p}"
    return None


def test_precise_mode_is_the_clis(root, cli, cli_env):
    model = neural_model(root)
    if model is None:
        pytest.skip("no neural model; run scripts/fetch-neural.sh")
    try:
        r = unspin.Restorer(precise=True, neural_model=model)
    except RuntimeError as e:  # a package built without precise mode says so
        assert not os.environ.get("UNSPIN_REQUIRE_NEURAL"), e
        assert "--features precise" in str(e)
        pytest.skip(str(e))
    assert r.precise == "smollm2-135m" and unspin.Restorer().precise is None
    text = (root / "examples/spun-news.txt").read_text(encoding="utf-8")
    got = r.restore(text).to_dict()
    assert got["scorer"] == "smollm2-135m"
    args = ["--json", "--precise", "--neural-model", str(model), "examples/spun-news.txt"]
    want = json.loads(run_cli(cli, cli_env, "restore", *args).stdout)
    assert close(got, want), (got, want)

    d = unspin.Detector(precise=True, neural_model=model)
    got = d.detect(text).to_dict()
    want = json.loads(run_cli(cli, cli_env, "detect", *args, ok=(0, 1)).stdout)
    want.pop("path")
    assert got["scorer"] == "smollm2-135m"
    assert close(got, want), (got, want)

    # f32 products throughout, as the CLI's --neural-exact.
    r = unspin.Restorer(precise=True, neural_model=model, neural_exact=True)
    got = r.restore(text).to_dict()
    want = json.loads(run_cli(cli, cli_env, "restore", *args, "--neural-exact").stdout)
    assert close(got, want), (got, want)


def test_precise_mode_errors_are_exceptions(tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"GGUF but not really")
    with pytest.raises((ValueError, RuntimeError)):
        unspin.Restorer(precise=True, neural_model=bad)
    with pytest.raises((OSError, RuntimeError)):
        unspin.Detector(precise=True, neural_model=tmp_path / "missing.gguf")
    with pytest.raises(ValueError, match="precise=True"):
        unspin.Restorer(neural_model=bad)
    with pytest.raises(ValueError, match="precise=True"):
        unspin.Detector(neural_exact=True)
