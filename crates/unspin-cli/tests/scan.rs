//! End-to-end tests of `unspin scan`: every input record gives exactly one output line, in input
//! order whatever `-j` is; bad records are error records with their reason and position; exit
//! codes follow `unspin detect`; a run killed with SIGKILL at a random moment and resumed ends
//! with the bytes of an uninterrupted run; the HTML report is checked in headless Chromium.
//!
//! The corpora are generated here (deterministic pseudo-text with known tortured phrases of the
//! committed 51-row PPS sample inserted), so the tests need no fetched sources. Where the model
//! is not the point they run with `--fingerprints-only`, which is fast.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pps() -> PathBuf {
    root().join("crates/unspin/tests/data/pps_sample.csv")
}

/// The binary, with the committed pack and an empty data dir (no installed list leaks in).
fn command(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_unspin"));
    c.env("UNSPIN_PACK", root().join("models/default.unspin"))
        .env("UNSPIN_DATA_DIR", data)
        .env_remove("NO_COLOR");
    c
}

fn run(data: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = command(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unspin");
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    std::str::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Deterministic pseudo-text: sentences of common words, some paragraphs, and now and then a
/// tortured phrase of the PPS sample.
struct Gen(u64);

const WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
    "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "system", "model", "data",
    "results", "method", "study", "patients", "network", "analysis", "energy", "water", "research",
    "process", "growth", "market", "health", "control", "design", "power", "time",
];

const TORTURED: &[&str] = &[
    "liver sickness",
    "sack of words",
    "distant detecting",
    "Kuznets bend",
];

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn doc(&mut self, words: usize) -> String {
        let mut s = String::new();
        let mut sentence = 0;
        for i in 0..words {
            let w = WORDS[(self.next() % WORDS.len() as u64) as usize];
            if sentence == 0 {
                let mut c = w.chars();
                let first = c.next().unwrap().to_ascii_uppercase();
                s.push(first);
                s.push_str(c.as_str());
            } else {
                s.push_str(w);
            }
            sentence += 1;
            if self.next().is_multiple_of(97) {
                s.push(' ');
                s.push_str(TORTURED[(self.next() % TORTURED.len() as u64) as usize]);
            }
            if sentence > 6 && self.next().is_multiple_of(9) {
                s.push('.');
                sentence = 0;
                if self.next().is_multiple_of(7) {
                    s.push_str("\n\n");
                    continue;
                }
            }
            if i + 1 < words {
                s.push(' ');
            }
        }
        s.push('.');
        s
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A WET `conversion` record.
fn wet(n: u32, text: &str) -> Vec<u8> {
    let mut out = format!(
        "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://example.com/{n}\r\n\
         WARC-Date: 2024-02-20T22:14:31Z\r\nWARC-Record-ID: <urn:uuid:{n:08}>\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        text.len()
    )
    .into_bytes();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// A one-page PDF with these lines in Helvetica.
fn pdf(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 12 Tf 14 TL 72 720 Td\n");
    for l in lines {
        content.push_str(&format!("({l}) Tj T*\n"));
    }
    content.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R \
         /Resources << /Font << /F1 3 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        tail.push_str(&format!("{o:010} 00000 n \n"));
    }
    tail.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.extend_from_slice(tail.as_bytes());
    out
}

fn jsonl(docs: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (id, text) in docs {
        serde_json::to_writer(&mut out, &serde_json::json!({"id": id, "text": text})).unwrap();
        out.push(b'\n');
    }
    out
}

/// A corpus of every format, good records only: `n` documents of `words` words per file.
fn write_corpus(dir: &Path, seed: u64, n: usize, words: usize) {
    let mut g = Gen(seed);
    let docs: Vec<(String, String)> = (0..n).map(|i| (format!("j{i}"), g.doc(words))).collect();
    std::fs::write(dir.join("a.jsonl"), jsonl(&docs)).unwrap();
    let docs: Vec<(String, String)> = (0..n).map(|i| (format!("z{i}"), g.doc(words))).collect();
    std::fs::write(dir.join("b.jsonl.gz"), gzip(&jsonl(&docs))).unwrap();
    let mut w = Vec::new();
    for i in 0..n {
        // One gzip member per record, as Common Crawl writes WET files.
        w.extend(gzip(&wet(i as u32, &g.doc(words))));
    }
    std::fs::write(dir.join("c.warc.wet.gz"), w).unwrap();
    std::fs::create_dir_all(dir.join("texts")).unwrap();
    for i in 0..3 {
        std::fs::write(dir.join(format!("texts/t{i}.txt")), g.doc(words)).unwrap();
    }
}

fn ids(out: &[Value]) -> Vec<String> {
    out.iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_format_and_every_bad_record_gives_one_line() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    std::fs::write(
        d.join("docs.jsonl"),
        "{\"id\": \"good\", \"text\": \"The liver sickness spread.\"}\n\
         not json at all\n\
         [1, 2]\n\
         {\"id\": \"nofield\", \"body\": \"x\"}\n\
         {\"id\": 7, \"text\": \"A clean line.\"}\n",
    )
    .unwrap();
    // 100 MB on one line: longer than the 64 MiB limit.
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(d.join("long.jsonl")).unwrap());
        f.write_all(b"{\"id\": \"huge\", \"text\": \"").unwrap();
        let chunk = "word ".repeat(1 << 16);
        for _ in 0..(100_000_000 / chunk.len() + 1) {
            f.write_all(chunk.as_bytes()).unwrap();
        }
        f.write_all(b"\"}\n{\"id\": \"after-huge\", \"text\": \"Still read.\"}\n")
            .unwrap();
    }
    // A gzip stream cut short: the records before the cut are read.
    let full = gzip(&jsonl(&[
        ("g1".into(), "First of the gzip.".into()),
        ("g2".into(), Gen(3).doc(3000)),
    ]));
    std::fs::write(d.join("cut.jsonl.gz"), &full[..full.len() - 40]).unwrap();
    // A WET file with a malformed record between two good ones.
    let mut w = wet(1, "Good record one.");
    w.extend_from_slice(
        b"WARC/1.0\r\nWARC-Type conversion\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n",
    );
    w.extend(wet(2, "Good record two about distant detecting."));
    std::fs::write(d.join("bad.wet"), w).unwrap();
    std::fs::write(d.join("bin.txt"), b"text with a \0 NUL byte").unwrap();
    std::fs::write(d.join("latin1.txt"), b"caf\xe9 cr\xe8me").unwrap();
    std::fs::write(d.join("paper.pdf"), pdf(&["The sack of words model."])).unwrap();

    let inputs = [
        p("docs.jsonl"),
        p("long.jsonl"),
        p("cut.jsonl.gz"),
        p("bad.wet"),
        p("b*.txt"),
        p("latin1.txt"),
        p("paper.pdf"),
        p("missing.jsonl"),
        "-".to_string(),
    ];
    let out = d.join("out.jsonl");
    let fp = pps();
    let mut args = vec![
        "scan",
        "--fingerprints-only",
        "--fingerprints",
        fp.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(inputs.iter().map(String::as_str));
    let o = run(data.path(), &args, b"Standard input is read too.");
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("some records failed"), "{e}");
    let got = lines(&std::fs::read(&out).unwrap());
    let want: &[(&str, Result<&str, &str>)] = &[
        ("good", Ok("liver sickness")),
        (":2", Err("invalid json")),
        (":3", Err("json line is not an object")),
        ("nofield", Err("field `text` is missing")),
        ("7", Ok("")),
        (
            "long.jsonl:1",
            Err("record longer than the limit of 67108864 bytes"),
        ),
        ("after-huge", Ok("")),
        ("g1", Ok("")),
        ("cut.jsonl.gz", Err("gzip stream truncated")),
        ("<urn:uuid:00000001>", Ok("")),
        (
            "bad.wet@",
            Err("malformed warc record: header line without a colon"),
        ),
        ("<urn:uuid:00000002>", Ok("distant detecting")),
        ("bin.txt", Err("binary content")),
        ("latin1.txt", Err("invalid utf-8 at byte 3")),
        ("paper.pdf", Ok("sack of words")),
        ("missing.jsonl", Err("no such file or directory")),
        ("-", Ok("")),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (i, (v, (id, expect))) in got.iter().zip(want).enumerate() {
        let got_id = v["id"].as_str().unwrap();
        assert!(got_id.contains(id), "record {i}: id {got_id} is not {id}");
        let src = &v["source"];
        assert!(src["path"].is_string() && src["file"].is_u64() && src["record"].is_u64());
        match expect {
            Ok(hit) => {
                assert!(v["error"].is_null(), "record {i}: {v}");
                assert!(v["score"].is_null(), "fingerprints only: {v}");
                for key in ["spans", "fingerprints", "paragraphs"] {
                    assert!(v[key].is_array(), "record {i} has no {key}: {v}");
                }
                let hits = v["fingerprints"].as_array().unwrap();
                assert_eq!(v["flagged"], !hit.is_empty(), "record {i}: {v}");
                if !hit.is_empty() {
                    assert_eq!(hits[0]["matched"], *hit, "record {i}: {v}");
                }
            }
            Err(reason) => {
                let e = v["error"]
                    .as_str()
                    .unwrap_or_else(|| panic!("record {i}: {v}"));
                assert!(e.contains(reason), "record {i}: {e:?} lacks {reason:?}");
                assert!(v.get("score").is_none(), "{v}");
            }
        }
    }
    // Positions: lines of JSONL, byte offsets of WARC records.
    assert_eq!(got[1]["source"]["line"], 2);
    assert_eq!(got[5]["source"]["line"], 1);
    assert_eq!(got[6]["source"]["line"], 2);
    assert!(got[10]["source"]["offset"].as_u64().unwrap() > 0);
    assert_eq!(got[9]["url"], "http://example.com/1");
    // The first errors are on stderr with their position, then the summary.
    assert!(e.contains("docs.jsonl:2 (record 1): invalid json"), "{e}");
    let last = e.lines().last().unwrap();
    assert!(
        last.starts_with("unspin scan: 17 records, 3 flagged, 9 errors"),
        "{last}"
    );
}

#[test]
fn output_is_in_input_order_and_the_same_for_any_jobs() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_corpus(dir.path(), 7, 300, 120);
    let d = dir.path().to_str().unwrap();
    let mut outs = Vec::new();
    for j in ["1", "3", "8"] {
        let o = run(
            data.path(),
            &[
                "scan",
                "-j",
                j,
                "--fingerprints-only",
                "--fingerprints",
                pps().to_str().unwrap(),
                d,
            ],
            b"",
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        outs.push(o.stdout);
    }
    assert!(
        outs[0] == outs[1] && outs[1] == outs[2],
        "-j changes the output"
    );
    let got = lines(&outs[0]);
    assert_eq!(got.len(), 3 * 300 + 3);
    let ids = ids(&got);
    assert_eq!(ids[0], "j0");
    assert_eq!(ids[299], "j299");
    assert_eq!(ids[300], "z0");
    assert_eq!(ids[600], "<urn:uuid:00000000>");
    assert!(ids[900].ends_with("texts/t0.txt"), "{}", ids[900]);
    // Ordinals count up within each file, files in the order expanded.
    let mut last = (0, 0);
    for (i, v) in got.iter().enumerate() {
        let s = (
            v["source"]["file"].as_u64().unwrap(),
            v["source"]["record"].as_u64().unwrap(),
        );
        assert!(i == 0 || s > last, "{s:?} after {last:?}");
        last = s;
    }
    assert!(got.iter().any(|v| v["flagged"] == true));
}

#[test]
fn scores_are_those_of_detect_and_exit_codes_follow_it() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let texts = [
        "Six Russian troopers who fled the warfare in Ukraine have been granted momentary visas as they apply for political asylum in France.",
        "The committee met on Tuesday and approved the budget for the coming year after a short debate.",
    ];
    let mut paths = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let p = dir.path().join(format!("{i}.txt"));
        std::fs::write(&p, t).unwrap();
        paths.push(p.to_str().unwrap().to_string());
    }
    let args = |extra: &[&str]| -> Vec<String> {
        // The full analysis for every text, whatever the screening default is.
        let mut a: Vec<String> = ["scan", "-j", "2", "--screen-below", "0"]
            .map(String::from)
            .to_vec();
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(paths.iter().cloned());
        a
    };
    let run_args = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(data.path(), &a, b"")
    };
    let o = run_args(args(&[]));
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let scan = lines(&o.stdout);
    let mut detect_args = vec!["detect", "--json", "--screen-below", "0"];
    detect_args.extend(paths.iter().map(String::as_str));
    let det = lines(&run(data.path(), &detect_args, b"").stdout);
    assert_eq!(scan.len(), 2);
    for (s, d) in scan.iter().zip(&det) {
        for key in [
            "score",
            "flagged",
            "spans",
            "paragraphs",
            "spin_rate",
            "words",
            "stage",
        ] {
            assert_eq!(s[key], d[key], "{key} differs from detect");
        }
        let score = s["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
    }
    assert!(!scan[0]["spans"].as_array().unwrap().is_empty());
    // Flagged: 0; nothing flagged: 1; an error: 2, whatever was flagged.
    assert_eq!(run_args(args(&["--threshold", "0"])).status.code(), Some(0));
    assert_eq!(run_args(args(&["--threshold", "1"])).status.code(), Some(1));
    let mut a = args(&["--threshold", "0"]);
    a.push(dir.path().join("nope.txt").to_str().unwrap().to_string());
    let o = run_args(a);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(lines(&o.stdout).len(), 3);
    // Usage errors are errors before any record.
    assert_eq!(
        run_args(args(&["--threshold", "1.5"])).status.code(),
        Some(2)
    );
    assert_eq!(run_args(args(&["--format", "docx"])).status.code(), Some(2));
    let o = run_args(args(&["--fingerprints-only"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no fingerprint list installed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn progress_bar_only_when_asked_or_on_a_terminal() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_corpus(dir.path(), 3, 50, 50);
    let d = dir.path().to_str().unwrap();
    let fp = pps();
    let base = [
        "scan",
        "--fingerprints-only",
        "--fingerprints",
        fp.to_str().unwrap(),
        d,
    ];
    // Piped: no bar, only the summary line.
    let o = run(data.path(), &base, b"");
    let e = stderr(&o);
    assert!(!e.contains('\r'), "{e:?}");
    // The sample list's one malformed row is reported; then the summary alone.
    let own: Vec<&str> = e
        .lines()
        .filter(|l| !l.contains("pps_sample.csv"))
        .collect();
    assert_eq!(own.len(), 1, "{e}");
    assert!(own[0].starts_with("unspin scan: 153 records"), "{e}");
    let mut forced = base.to_vec();
    forced.extend(["--progress", "always"]);
    let o = run(data.path(), &forced, b"");
    let e = stderr(&o);
    assert!(
        e.contains('\r') && e.contains("100%") && e.contains("MB/s"),
        "{e:?}"
    );
    assert!(e.trim_end().ends_with("records/s"), "{e:?}");
}

/// Peak resident memory of a running child, polled from /proc (Linux).
fn run_measuring_peak(mut c: Command) -> (Output, u64) {
    let child = c
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let handle = std::thread::spawn(move || child.wait_with_output().unwrap());
    while !handle.is_finished() {
        if let Ok(s) = std::fs::read_to_string(&status) {
            for l in s.lines().filter(|l| l.starts_with("VmHWM:")) {
                let kb: u64 = l.split_whitespace().nth(1).unwrap().parse().unwrap();
                peak = peak.max(kb);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (handle.join().unwrap(), peak)
}

#[test]
fn memory_does_not_grow_with_the_input() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // 300 MB of JSONL: far more than the window holds.
    let mut g = Gen(11);
    let docs: Vec<(String, String)> = (0..64).map(|i| (format!("{i}"), g.doc(2000))).collect();
    let block = jsonl(&docs);
    let path = dir.path().join("big.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut written = 0;
    while written < 300_000_000 {
        f.write_all(&block).unwrap();
        written += block.len();
    }
    drop(f);
    let mut c = command(data.path());
    c.args([
        "scan",
        "-j",
        "2",
        "--fingerprints-only",
        "--fingerprints",
        pps().to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    let (o, peak_kb) = run_measuring_peak(c);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    eprintln!("peak RSS {peak_kb} KiB for {written} bytes");
    assert!(peak_kb > 0, "could not read /proc");
    assert!(
        peak_kb < 200 * 1024,
        "peak RSS {peak_kb} KiB on a {written}-byte input"
    );
}

/// Runs a scan to completion, returning its output and report.
fn full_run(data: &Path, args: &[&str], out: &Path, report: &Path) -> (Vec<u8>, String) {
    let mut a = args.to_vec();
    a.extend([
        "-o",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let o = run(data, &a, b"");
    assert!(matches!(o.status.code(), Some(0..=2)), "{}", stderr(&o));
    (
        std::fs::read(out).unwrap(),
        std::fs::read_to_string(report).unwrap(),
    )
}

/// The report without the line that says how long the run took.
fn timeless(report: &str) -> String {
    report
        .lines()
        .filter(|l| !l.starts_with("<p id=\"timing\">"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn resuming_from_any_cut_gives_the_uninterrupted_output() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    write_corpus(&corpus, 5, 40, 80);
    std::fs::write(
        corpus.join("d.jsonl"),
        "not json\n{\"text\": \"liver sickness\"}\n",
    )
    .unwrap();
    let fp = pps();
    let args = [
        "scan",
        "--fingerprints-only",
        "--fingerprints",
        fp.to_str().unwrap(),
        corpus.to_str().unwrap(),
    ];
    let (out, report) = (dir.path().join("ref.jsonl"), dir.path().join("ref.html"));
    let (want, want_report) = full_run(data.path(), &args, &out, &report);
    let n = want.len();
    // Cuts: nothing, mid-line, just before and just after a newline, everything.
    let first_nl = want.iter().position(|&b| b == b'\n').unwrap();
    let mut cuts = vec![0, 1, first_nl, first_nl + 1, n / 3, n / 2 + 7, n - 1, n];
    cuts.extend((1..12).map(|i| i * n / 13 + i));
    let (cut_out, cut_report) = (dir.path().join("cut.jsonl"), dir.path().join("cut.html"));
    for cut in cuts {
        std::fs::write(&cut_out, &want[..cut]).unwrap();
        let mut a = args.to_vec();
        a.extend(["--resume", "-j", "3"]);
        let (got, got_report) = full_run(data.path(), &a, &cut_out, &cut_report);
        assert!(
            got == want,
            "resuming after {cut} of {n} bytes changed the output"
        );
        assert_eq!(
            timeless(&got_report),
            timeless(&want_report),
            "resuming after {cut} bytes changed the report"
        );
    }
    // Another run's output is refused, not appended to.
    std::fs::write(
        &cut_out,
        "{\"id\":\"x\",\"error\":\"e\",\"source\":{\"path\":\"elsewhere.jsonl\",\"file\":0,\"record\":0,\"line\":1,\"offset\":0}}\n",
    )
    .unwrap();
    let mut a = args.to_vec();
    a.extend(["--resume", "-o", cut_out.to_str().unwrap()]);
    let o = run(data.path(), &a, b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("was written for other inputs"),
        "{}",
        stderr(&o)
    );
}

/// A small xorshift seeded from the clock (or UNSPIN_KILL_SEED), printed for reproduction.
fn seed() -> u64 {
    let s = std::env::var("UNSPIN_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("UNSPIN_KILL_SEED={s}");
    s
}

/// Starts `args`, SIGKILLs it after `delay`, counted from its start or, with `after_output`,
/// from the moment `out` has grown (a record was written); returns whether it was still running.
fn kill_after(data: &Path, args: &[&str], out: &Path, delay: Duration, after_output: bool) -> bool {
    let before = std::fs::metadata(out).map_or(0, |m| m.len());
    let mut child = command(data)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    if after_output {
        while std::fs::metadata(out).map_or(0, |m| m.len()) <= before {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    std::thread::sleep(delay);
    let running = child.try_wait().unwrap().is_none();
    // Child::kill sends SIGKILL on Unix: no destructor, no flush, no cleanup runs.
    child.kill().unwrap();
    child.wait().unwrap();
    running
}

fn kill_and_resume(data: &Path, args: &[&str], dir: &Path, kills: usize) {
    let (out, report) = (dir.join("ref.jsonl"), dir.join("ref.html"));
    let t = Instant::now();
    let (want, want_report) = full_run(data, args, &out, &report);
    let full = t.elapsed();
    let mut rng = Gen(seed());
    let (got_out, got_report) = (dir.join("got.jsonl"), dir.join("got.html"));
    let mut a = args.to_vec();
    a.extend([
        "-o",
        got_out.to_str().unwrap(),
        "--report",
        got_report.to_str().unwrap(),
    ]);
    let mut interrupted = 0;
    let mut sizes = Vec::new();
    for i in 0..kills {
        let mut b = a.clone();
        if i > 0 {
            b.push("--resume");
        }
        // Every other run is killed at a random moment from its start (start-up, resuming, or
        // scoring), log-uniformly up to most of a whole run; the others at a random moment
        // soon after their first record reached the output, so that some kills surely cut a
        // run that has written part of its output. The first run is one of the latter: a run
        // killed at a random moment may finish first (the reference run that times them may
        // have been slowed by the tests running beside it), and a finished first run would
        // leave the resumed ones nothing to do.
        let after_output = i % 2 == 0;
        let (low, top): (f64, f64) = if after_output {
            (0.001, 0.05)
        } else {
            (0.005, (full.as_secs_f64() * 0.8).max(0.02))
        };
        let u = (rng.next() % 1_000_000) as f64 / 1e6;
        let secs = (low.ln() + u * (top.ln() - low.ln())).exp();
        let delay = Duration::from_secs_f64(secs);
        interrupted += usize::from(kill_after(data, &b, &got_out, delay, after_output));
        sizes.push(std::fs::metadata(&got_out).map_or(0, |m| m.len()));
    }
    eprintln!(
        "full run {full:?}, {} bytes; output sizes after each kill: {sizes:?}",
        want.len()
    );
    assert!(
        interrupted > 0,
        "no run was interrupted: the corpus is too small"
    );
    assert!(
        sizes.iter().any(|&s| s > 0 && (s as usize) < want.len()),
        "no kill left a partial output: {sizes:?}"
    );
    let mut b = a.clone();
    b.push("--resume");
    let o = run(data, &b, b"");
    assert!(matches!(o.status.code(), Some(0..=2)), "{}", stderr(&o));
    let got = std::fs::read(&got_out).unwrap();
    assert_eq!(
        got.len(),
        want.len(),
        "sizes differ after kills at {sizes:?}"
    );
    assert!(got == want, "output differs after kills at {sizes:?}");
    let got_report = std::fs::read_to_string(&got_report).unwrap();
    assert_eq!(timeless(&got_report), timeless(&want_report));
}

#[test]
fn sigkill_and_resume_with_the_fingerprint_list() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    // Many small records, so that a run lasts long enough to be killed in the middle.
    write_corpus(&corpus, 9, 40_000, 60);
    let fp = pps();
    let args = [
        "scan",
        "-j",
        "2",
        "--fingerprints-only",
        "--fingerprints",
        fp.to_str().unwrap(),
        corpus.to_str().unwrap(),
    ];
    kill_and_resume(data.path(), &args, dir.path(), 6);
}

#[test]
fn sigkill_and_resume_with_the_model() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    // Enough records that a run lasts a good fraction of a second (40 per file: with 12, a
    // faster restorer finished before a kill soon after its first record could land).
    write_corpus(&corpus, 13, 40, 150);
    let fp = pps();
    let args = [
        "scan",
        "-j",
        "2",
        "--fingerprints",
        fp.to_str().unwrap(),
        corpus.to_str().unwrap(),
    ];
    kill_and_resume(data.path(), &args, dir.path(), 6);
}

/// Headless Chromium: the test fails, never skips, when it is missing (scripts/test.sh installs
/// Debian's `chromium`).
fn chromium(args: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new("chromium")
        .args(["--headless", "--disable-gpu", "--no-sandbox"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .expect("chromium is missing: install Debian's chromium (scripts/test.sh does)");
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

#[test]
fn report_renders_in_headless_chromium() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("docs.jsonl"),
        jsonl(&[
            (
                "spun-1".into(),
                "Six Russian troopers who fled the warfare in Ukraine have been granted momentary visas as they apply for political asylum in France.".into(),
            ),
            (
                "<img src=x onerror=alert(1)>".into(),
                "<script>document.title='pwned'</script> The liver sickness of a sack of words model & more.".into(),
            ),
            ("clean".into(), "The committee met on Tuesday and approved the budget.".into()),
        ]),
    )
    .unwrap();
    std::fs::write(d.join("broken.jsonl"), "{\"text\": 3}\n").unwrap();
    let report = d.join("report.html");
    let o = run(
        data.path(),
        &[
            "scan",
            // Every document flagged, so that all their spans are counted.
            "--threshold",
            "0",
            "--screen-below",
            "0",
            "--fingerprints",
            pps().to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
            "-o",
            d.join("out.jsonl").to_str().unwrap(),
            d.join("docs.jsonl").to_str().unwrap(),
            d.join("broken.jsonl").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let html = std::fs::read_to_string(&report).unwrap();
    // Self-contained: nothing to fetch.
    for needle in [
        "<link",
        "<script",
        "<img",
        "src=\"",
        "@import",
        "url(",
        "href=\"http",
    ] {
        assert!(!html.contains(needle), "the report holds {needle:?}");
    }
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));

    let url = format!("file://{}", report.display());
    let dom = String::from_utf8(chromium(&["--dump-dom", &url]).stdout).unwrap();
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scan-report");
    std::fs::create_dir_all(&artifacts).unwrap();
    let png = artifacts.join("report.png");
    let _ = std::fs::remove_file(&png);
    chromium(&[
        "--window-size=1200,2400",
        "--hide-scrollbars",
        &format!("--screenshot={}", png.display()),
        &url,
    ]);
    std::fs::write(artifacts.join("report.html"), &html).unwrap();
    std::fs::write(artifacts.join("dom.html"), &dom).unwrap();
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "no screenshot"
    );

    // The browser built the histogram and the highlighted spans.
    assert!(dom.contains("<svg id=\"histogram\""), "{dom}");
    assert_eq!(dom.matches("<rect class=\"bar").count(), 20);
    let spun = dom.matches("<mark class=\"spun\"").count();
    assert!(spun >= 2, "{spun} model spans highlighted");
    assert!(dom.contains("title=\"likely original: war "), "{dom}");
    assert!(dom.contains("data-original=\"temporary\""), "{dom}");
    assert!(
        dom.contains("class=\"fingerprint\" data-original=\"liver disease\""),
        "{dom}"
    );
    // Substitutions and fingerprint tables.
    assert!(dom.contains("<td class=\"spun\">warfare</td>"), "{dom}");
    assert!(
        dom.contains("<td class=\"spun\">sack of words</td>"),
        "{dom}"
    );
    // Input markup stayed text: no element was injected, no script ran.
    assert!(!dom.contains("<img"), "{dom}");
    assert!(dom.contains("&lt;script&gt;document.title"), "{dom}");
    assert!(dom.contains("<title>unspin scan report</title>"));
    // The error is listed with its reason.
    assert!(
        dom.contains("field `text` is a number, not a string"),
        "{dom}"
    );
}
