#!/usr/bin/env python3
"""Helpers for scripts/bench-trace.sh.

corpus OUT.jsonl SRC_DIR... [--more SRC_DIR...]
                              cut real text (unpacked registry packages) into ~300-word documents:
                              paragraphs joined up to 250-400 words, code-like paragraphs and
                              quoted mail lines dropped, exact and near duplicates dropped (a
                              document is kept only if under a fifth of its sampled 8-word
                              shingles were seen before), shuffled with a fixed seed. Folders after
                              --more are read by file type (HTML, dictd, man pages, info, Vim help)
                              and kept only if English.
assemble DOCS.jsonl N TOTAL OUT.jsonl
                              the first N documents, then TOTAL - N more, each of real sentences
                              (pieces of at most 20 words) drawn at random (fixed seed) from those
                              N documents until it has 300 words: a corpus of TOTAL documents for the 1 M-scale run, since
                              the registries did not give a million distinct real documents.
                              The held-out documents after N lend no sentence, so the
                              false-match queries still have no source.
datasketch DOCS.jsonl N QUERIES.jsonl --perms P --bands B
                              datasketch's MinHashLSH over word 3-shingles of the same documents
                              and queries: build and query time, recall@1, peak memory.
"""
import gzip
import hashlib
import html
import json
import os
import random
import re
import sys
import time

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+")


def paragraphs_of_text(text):
    for p in re.split(r"\n\s*\n", text):
        lines = [l for l in p.splitlines() if not l.lstrip().startswith(">")]
        p = " ".join(l.strip() for l in lines).strip()
        if not p:
            continue
        letters = sum(c.isalpha() or c.isspace() for c in p)
        if letters < 0.85 * len(p) or len(p.split()) < 8:
            continue
        yield p


def strip_html(s):
    s = re.sub(r"(?is)<(script|style|pre).*?</\1>", " ", s)
    s = re.sub(r"(?i)<(p|div|br|li|h\d|tr|dd|dt)\b[^>]*>", "\n\n", s)
    s = re.sub(r"<[^>]+>", " ", s)
    return html.unescape(s)


def read(path):
    if path.endswith(".gz") or path.endswith(".dz"):
        with gzip.open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def texts(root):
    """(source name, text) for every document-like file under root."""
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            low = name.lower()
            if "brown" in dirpath and re.fullmatch(r"c[a-r]\d\d", name):
                raw = read(path)
                words = [t.rsplit("/", 1)[0] for t in raw.split()]
                paras = "\n\n".join(
                    " ".join(t.rsplit("/", 1)[0] for t in l.split())
                    for l in raw.split("\n\n")
                )
                yield rel, re.sub(r"``|''", '"', paras)
            elif "sotu" in dirpath and low.endswith(".txt"):
                yield rel, read(path)
            elif "spam-assassin" in dirpath and low.endswith(".txt"):
                raw = read(path)
                body = raw.split("\n\n", 1)[1] if "\n\n" in raw else ""
                if "<html" in body.lower() or "<body" in body.lower():
                    body = strip_html(body)
                yield rel, body
            elif low.endswith(".rst.gz") or low.endswith(".pod"):
                raw = read(path)
                raw = re.sub(r"(?m)^(\.\. .*|[=\-~^*#]{3,}\s*|=\w+.*)$", "", raw)
                raw = re.sub(r"[`*]|:\w+:|[BICLFS]<([^>]*)>", r"\1", raw)
                yield rel, raw
            elif low.endswith((".html", ".html.gz")) and any(
                k in dirpath for k in ("python3", "postgresql", "debian-reference", "openjdk", "/git")
            ):
                yield rel, strip_html(read(path))
            elif ".info" in low and "info" in dirpath:
                yield rel, re.sub(r"[\x1f\x7f]", "\n\n", read(path))
            elif low == "gcide.dict.dz":
                raw = read(path)
                for i, chunk in enumerate(re.split(r"\n(?=\S)", raw)):
                    yield f"{rel}#{i}", chunk.replace("\n", " ")
            elif "fortunes" in dirpath and "." not in name:
                for i, f in enumerate(read(path).split("\n%\n")):
                    yield f"{rel}#{i}", f


def strip_roff(s):
    """The running text of a man page: macro lines become paragraph breaks (or give their text),
    examples and no-fill blocks are dropped, escapes removed."""
    out, skip = [], False
    for line in s.splitlines():
        if line.startswith((".", "'")):
            macro = line[1:].split(None, 1)
            name = macro[0] if macro else ""
            if name in ("EX", "nf"):
                skip = True
            elif name in ("EE", "fi"):
                skip = False
            elif name in ("B", "I", "BR", "RB", "IR", "RI", "BI", "IB", "SM", "SB") and len(macro) > 1 and not skip:
                out.append(macro[1].replace('"', ""))
            else:
                out.append("")
            continue
        if not skip:
            out.append(line)
    t = "\n".join(out)
    t = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", t)
    t = re.sub(r"\\(\(..|\[[^\]]*\])", " ", t)
    t = re.sub(r"\\-", "-", t)
    t = re.sub(r"\\.", "", t)
    return t


def more_texts(root):
    """(source name, text) for the documentation packages added for the 100 k corpus: HTML
    manuals, dictd dictionaries, man pages, info manuals, Vim's help."""
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            low = name.lower()
            if low.endswith((".html", ".htm", ".html.gz", ".xhtml")):
                yield rel, strip_html(read(path))
            elif low.endswith(".dict.dz"):
                for i, chunk in enumerate(re.split(r"\n(?=\S)", read(path))):
                    yield f"{rel}#{i}", chunk.replace("\n", " ")
            elif "/man/man" in dirpath and re.search(r"\.\d\w*\.gz$", low):
                yield rel, strip_roff(read(path))
            elif "/vim" in dirpath and dirpath.endswith("/doc") and low.endswith(".txt"):
                yield rel, read(path)
            elif ".info" in low and dirpath.endswith("/info"):
                yield rel, re.sub(r"[\x1f\x7f]", "\n\n", read(path))


# Common English words: a document from the --more folders is kept only if at least 12 % of
# its words are among them (translated manuals ship beside the English ones).
ENGLISH = set(
    "the of and to a in is that for it as with was on be by this are or from at an which not "
    "have has can but if you will all one their there been they when more also may these".split()
)


def english(text):
    ws = text.lower().split()
    return bool(ws) and sum(w in ENGLISH for w in ws) >= 0.12 * len(ws)


def stable_hash(s):
    return int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")


def corpus(out, roots):
    docs = []
    seen_exact = set()
    seen_shingles = set()
    more = False
    for root in roots:
        if root == "--more":
            more = True
            continue
        for rel, text in (more_texts if more else texts)(root):
            buf, n = [], 0

            def flush():
                nonlocal buf, n
                if n >= 200 and (not more or english(" ".join(buf))):
                    docs.append((f"{os.path.basename(root.rstrip('/'))}/{rel}#{len(docs)}", " ".join(buf)))
                buf, n = [], 0

            for p in paragraphs_of_text(text):
                words = p.split()
                while len(words) > 400:
                    cut = 300
                    for k in range(250, 400):
                        if words[k - 1].endswith((".", "?", "!")):
                            cut = k
                            break
                    buf.append(" ".join(words[:cut]))
                    n += cut
                    flush()
                    words = words[cut:]
                if n + len(words) > 400:
                    flush()
                buf.append(" ".join(words))
                n += len(words)
                if n >= 250:
                    flush()
            flush()
    kept = []
    for doc_id, text in docs:
        key = hashlib.sha1(text.lower().encode()).digest()
        if key in seen_exact:
            continue
        seen_exact.add(key)
        ws = [w.lower() for w in WORD.findall(text)]
        # A stable hash (Python's own is salted per process, which made the kept documents
        # differ from run to run).
        sh = {stable_hash(" ".join(ws[i : i + 8])) for i in range(max(0, len(ws) - 7))}
        sh = {h for h in sh if h % 4 == 0}
        if sh and len(sh & seen_shingles) > 0.2 * len(sh):
            continue
        seen_shingles |= sh
        kept.append((doc_id, text))
    random.Random(6).shuffle(kept)
    with open(out, "w") as f:
        for doc_id, text in kept:
            f.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    words = sum(len(t.split()) for _, t in kept)
    print(f"{len(kept)} documents, {words} words ({len(docs) - len(kept)} duplicates dropped)", file=sys.stderr)


SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def assemble(docs_path, n, total, out):
    pool = []
    with open(docs_path) as f, open(out, "w") as o:
        for i, line in enumerate(f):
            if i >= n:
                break
            o.write(line)
            text = json.loads(line)["text"]
            for para in text.split("\n\n"):
                for sent in SENTENCE_END.split(para.strip()):
                    # Pieces of at most 20 words: some documents have "sentences" hundreds of
                    # words long, and a copy of one would be a real copy of an excerpt.
                    words = sent.split()
                    for at in range(0, len(words), 20):
                        piece = words[at:at + 20]
                        if len(piece) >= 3:
                            pool.append((" ".join(piece), len(piece)))
        rng = random.Random(1)
        for k in range(total - n):
            parts, words = [], 0
            while words < 300:
                sent, w = pool[rng.randrange(len(pool))]
                parts.append(sent)
                words += w
            # Paragraphs of about five sentences, as the real documents have.
            text = "\n\n".join(" ".join(parts[i:i + 5]) for i in range(0, len(parts), 5))
            o.write(json.dumps({"id": f"assembled/{k}", "text": text}) + "\n")
    print(f"{total} documents: {n} real, {total - n} assembled from {len(pool)} real sentences", file=sys.stderr)


def shingles(text, k=3):
    ws = [w.lower() for w in WORD.findall(text)]
    return {" ".join(ws[i : i + k]).encode() for i in range(max(1, len(ws) - k + 1))}


def datasketch_bench(docs_path, n, queries_path, perms, bands):
    import resource
    from datasketch import MinHash, MinHashLSH

    rows = perms // bands
    docs = []
    with open(docs_path) as f:
        for line in f:
            if len(docs) >= n:
                break
            d = json.loads(line)
            docs.append((d["id"], d["text"]))
    lsh = MinHashLSH(num_perm=perms, params=(bands, rows))
    t = time.time()
    for doc_id, text in docs:
        m = MinHash(num_perm=perms)
        m.update_batch(list(shingles(text)))
        lsh.insert(doc_id, m)
    build = time.time() - t
    queries = [json.loads(l) for l in open(queries_path)]
    t = time.time()
    hits = 0
    for q in queries:
        m = MinHash(num_perm=perms)
        m.update_batch(list(shingles(q["text"])))
        found = lsh.query(m)
        if q.get("source") in found:
            hits += 1
    qt = time.time() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "engine": "datasketch MinHashLSH", "docs": len(docs), "perms": perms, "bands": bands, "rows": rows,
        "build_s": round(build, 2), "docs_per_s": round(len(docs) / build),
        "queries": len(queries), "queries_per_s": round(len(queries) / qt, 1),
        "source_among_candidates": round(hits / max(1, len(queries)), 4), "peak_rss_mib": round(rss),
    }))


if __name__ == "__main__":
    if sys.argv[1] == "corpus":
        corpus(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "assemble":
        assemble(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "datasketch":
        a = sys.argv[2:]
        perms = int(a[a.index("--perms") + 1])
        bands = int(a[a.index("--bands") + 1])
        datasketch_bench(a[0], int(a[1]), a[2], perms, bands)
    else:
        sys.exit(__doc__)
