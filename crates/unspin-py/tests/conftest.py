"""Shared fixtures: the repository, the CLI binary, Brown texts, a small corpus in JSONL and WET.

The Brown corpus is fetched by scripts/fetch-sources.sh into target/sources/brown (or
$UNSPIN_SOURCES/brown). When UNSPIN_REQUIRE_SOURCES is set (CI), a missing corpus is a failure,
never a skip, so that the tests cannot pass vacuously.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[3]


def pytest_configure(config):
    # Registered here too, so the marker is known however pytest is started.
    config.addinivalue_line("markers", "spark: runs PySpark in local mode (select with -m spark)")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cli() -> Path:
    """The release CLI (`cargo build --release -p unspin-cli`), which the tests compare with."""
    exe = Path(os.environ.get("UNSPIN_CLI", ROOT / "target/release/unspin"))
    if not exe.exists():
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "unspin-cli"], cwd=ROOT, check=True)
    return exe


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory) -> dict:
    """An environment in which the CLI reads no installed fingerprint list and the committed
    pack, as the package does by default."""
    env = dict(os.environ)
    env["UNSPIN_DATA_DIR"] = str(tmp_path_factory.mktemp("unspin-data"))
    env["UNSPIN_PACK"] = str(ROOT / "models/default.unspin")
    env.pop("NO_COLOR", None)
    return env


def brown_dir() -> Path:
    base = Path(os.environ.get("UNSPIN_SOURCES", ROOT / "target/sources"))
    return base / "brown"


def untag(raw: str) -> str:
    """A Brown file's text: `word/tag` tokens made words again, a paragraph a line (as
    crates/unspin-io/examples/make_corpus.rs does)."""
    paragraphs = []
    for block in raw.split("\n\n"):
        words = [t.rsplit("/", 1)[0] for t in block.split()]
        if words:
            paragraphs.append(" ".join(words))
    return "\n".join(paragraphs)


@pytest.fixture(scope="session")
def brown() -> List[Tuple[str, str]]:
    """(name, text) of the Brown files, in name order."""
    d = brown_dir()
    if not (d / "ca01").exists():
        if os.environ.get("UNSPIN_REQUIRE_SOURCES"):
            pytest.fail(f"Brown corpus missing at {d}")
        pytest.skip("Brown corpus not fetched; run scripts/fetch-sources.sh")
    names = sorted(p.name for p in d.iterdir() if len(p.name) == 4 and p.name[0] == "c")
    return [(n, untag((d / n).read_text(encoding="utf-8", errors="replace"))) for n in names]


def excerpt(text: str, chars: int) -> str:
    """The first paragraphs of a text, about `chars` characters."""
    out = []
    n = 0
    for p in text.split("\n"):
        out.append(p)
        n += len(p) + 1
        if n >= chars:
            break
    return "\n".join(out)


def write_wet(path: Path, docs: List[Tuple[str, str]]) -> None:
    """A WET file as Common Crawl writes it: a warcinfo record, then one conversion record per
    document, each record its own gzip member."""

    def record(headers: List[Tuple[str, str]], body: bytes) -> bytes:
        h = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        h += f"Content-Length: {len(body)}\r\n\r\n"
        return h.encode() + body + b"\r\n\r\n"

    with open(path, "wb") as f:
        info = b"software: unspin tests\r\n"
        f.write(gzip.compress(record([("WARC-Type", "warcinfo"), ("WARC-Record-ID", "<urn:uuid:info>")], info)))
        for i, (ident, text) in enumerate(docs):
            body = text.encode("utf-8")
            f.write(
                gzip.compress(
                    record(
                        [
                            ("WARC-Type", "conversion"),
                            ("WARC-Target-URI", f"http://example.com/{ident}"),
                            ("WARC-Date", "2026-11-26T00:00:00Z"),
                            ("WARC-Record-ID", f"<urn:uuid:{ident}>"),
                            ("Content-Type", "text/plain"),
                        ],
                        body,
                    )
                )
            )


@pytest.fixture(scope="session")
def corpus(brown, tmp_path_factory):
    """A small mixed corpus: 12 clean Brown excerpts and 8 of them spun (rate 0.3), in a JSONL
    file (plus one record without text, an error record) and a WET file. Returns a dict with the
    paths and the documents."""
    import unspin

    d = tmp_path_factory.mktemp("corpus")
    clean = [(f"clean-{n}", excerpt(t, 1200)) for n, t in brown[:12]]
    spun = [
        (f"spun-{n}", unspin.spin(excerpt(t, 1200), seed=7 + i, rate=0.3)[0])
        for i, (n, t) in enumerate(brown[:8])
    ]
    docs = clean + spun
    jsonl = d / "corpus.jsonl"
    with open(jsonl, "w", encoding="utf-8") as f:
        for ident, text in docs:
            f.write(json.dumps({"id": ident, "text": text}) + "\n")
        f.write(json.dumps({"id": "no-text", "body": "the text is not where it is looked for"}) + "\n")
    wet = d / "corpus.warc.wet.gz"
    write_wet(wet, docs[:6])
    return {"dir": d, "jsonl": jsonl, "wet": wet, "docs": docs, "clean": clean, "spun": spun}


def run_cli(cli: Path, env: dict, *args: str, input: str | None = None, ok=(0,)) -> subprocess.CompletedProcess:
    p = subprocess.run([str(cli), *args], input=input, capture_output=True, text=True, env=env, cwd=ROOT)
    assert p.returncode in ok, f"unspin {' '.join(args)} exited {p.returncode}: {p.stderr}"
    return p
