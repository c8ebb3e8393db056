//! End-to-end tests of `unspin index` and `unspin trace` with the committed default pack.

use std::io::Write;
use std::path::{Path, PathBuf};

mod common;
use common::{example, unspin};

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// A JSONL corpus: the example article and a few unrelated paragraphs.
fn corpus(dir: &Path) -> PathBuf {
    let docs = [
        ("news-1", example("spun-news.original.txt")),
        ("weather", "Heavy rain is expected across the north of England on Thursday, with up to 40 mm in the Pennines, the Met Office said.".to_string()),
        ("cooking", "Whisk two eggs with 200 g of flour and a pinch of salt, then leave the batter to rest for thirty minutes before frying.".to_string()),
    ];
    let path = dir.join("docs.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for (id, t) in docs {
        writeln!(f, "{}", serde_json::json!({"doc": id, "body": t})).unwrap();
    }
    writeln!(f, "not json").unwrap();
    path
}

/// `unspin ARGS` with no input, which must succeed.
fn ok(args: &[&str]) -> std::process::Output {
    let o = unspin(args, b"");
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
    o
}

/// `unspin learn INPUT -o PROFILE`, which must succeed.
fn learn(input: &Path, profile: &Path) -> std::process::Output {
    ok(&[
        "learn",
        input.to_str().unwrap(),
        "-o",
        profile.to_str().unwrap(),
    ])
}

/// `unspin trace --index INDEX --queries Q -o R` and `extra`, which must succeed.
fn batch(index: &str, queries: &Path, results: &Path, extra: &[&str]) {
    let mut args = vec![
        "trace",
        "--index",
        index,
        "--queries",
        queries.to_str().unwrap(),
        "-o",
        results.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

fn build(dir: &Path) -> PathBuf {
    let idx = dir.join("news.idx");
    let o = unspin(
        &[
            "index",
            "build",
            corpus(dir).to_str().unwrap(),
            "-o",
            idx.to_str().unwrap(),
            "--field",
            "body",
            "--id-field",
            "doc",
            "--progress",
            "never",
        ],
        b"",
    );
    // The bad line is reported with its position, and the run says so in its exit code.
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("docs.jsonl:4"),
        "{}",
        text(&o.stderr)
    );
    assert!(idx.exists());
    idx
}

#[test]
fn build_trace_align_and_batch() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build(dir.path());
    let idx_s = idx.to_str().unwrap();

    let spun = example("spun-news.txt");
    let o = unspin(&["trace", "--index", idx_s, "--align"], spun.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("news-1"), "{out}");
    assert!(out.contains("soldiers → troopers"), "{out}");
    assert!(!out.contains("weather"), "{out}");

    let o = unspin(&["trace", "--index", idx_s, "--json", "-"], spun.as_bytes());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = &v["matches"][0];
    assert_eq!(m["id"], "news-1");
    let score = m["score"].as_f64().unwrap();
    assert!((0.9..=1.0).contains(&score), "{score}");
    assert!(m["alignment"]["edits"].as_array().unwrap().iter().any(|e| {
        e["source"] == "soldiers" && e["spun"] == "troopers" && e["explained"] == true
    }));

    // Nothing to find: exit 1.
    let o = unspin(
        &["trace", "--index", idx_s],
        b"The committee will publish its final report on the harbour next spring.",
    );
    assert_eq!(o.status.code(), Some(1));

    // Batch: one line per query, in order.
    let q = dir.path().join("q.jsonl");
    std::fs::write(
        &q,
        format!(
            "{}\n{}\n",
            serde_json::json!({"id": "a", "text": spun}),
            serde_json::json!({"id": "b", "text": "Nothing like any document here at all."})
        ),
    )
    .unwrap();
    let r = dir.path().join("r.jsonl");
    batch(idx_s, &q, &r, &[]);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&r)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["query_id"], "a");
    assert_eq!(lines[0]["matches"][0]["id"], "news-1");
    assert_eq!(lines[1]["query_id"], "b");
    assert_eq!(lines[1]["matches"].as_array().unwrap().len(), 0);

    // What trace finds, it can teach: `learn` reads `trace --json` lines as pairs.
    let r = dir.path().join("r-aligned.jsonl");
    batch(idx_s, &q, &r, &["--json"]);
    let single = dir.path().join("one.jsonl");
    let o = unspin(&["trace", "--index", idx_s, "--json", "-"], spun.as_bytes());
    std::fs::write(&single, &o.stdout).unwrap();
    for (input, unused) in [(&r, true), (&single, false)] {
        let profile = dir.path().join("learned.json");
        let o = learn(input, &profile);
        assert_eq!(
            text(&o.stderr).contains("1 trace lines without a source"),
            unused,
            "{}",
            text(&o.stderr)
        );
        let shown = text(&unspin(&["profile", "show", profile.to_str().unwrap()], b"").stdout);
        assert!(shown.contains("troopers → soldiers"), "{shown}");
        assert!(shown.contains("from 1 pairs"), "{shown}");
    }
}

#[test]
fn add_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build(dir.path());
    let idx_s = idx.to_str().unwrap();
    let more = dir.path().join("more.txt");
    std::fs::write(
        &more,
        "The harbour committee met on Monday in Portsmouth to discuss 14 new berths.",
    )
    .unwrap();
    let o = unspin(&["index", "add", idx_s, more.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = unspin(&["index", "stats", idx_s, "--json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["meta"]["docs"], 4);
    let o = unspin(&["index", "stats", idx_s], b"");
    assert!(text(&o.stdout).contains("4 documents"));
}

#[test]
fn damaged_index_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build(dir.path());
    let good = std::fs::read(&idx).unwrap();
    let bad = dir.path().join("bad.idx");
    let spun = example("spun-news.txt");
    for (what, bytes) in [
        ("truncated", good[..good.len() / 2].to_vec()),
        ("flipped", {
            let mut b = good.clone();
            let at = b.len() - 10;
            b[at] ^= 1;
            b
        }),
        ("not an index", b"hello".to_vec()),
    ] {
        std::fs::write(&bad, &bytes).unwrap();
        let o = unspin(
            &["trace", "--index", bad.to_str().unwrap()],
            spun.as_bytes(),
        );
        assert_eq!(o.status.code(), Some(2), "{what}");
        let err = text(&o.stderr);
        assert!(
            err.contains("bad.idx") && err.contains("index"),
            "{what}: {err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
}

#[test]
fn a_profile_explains_its_spinners_substitutions() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build(dir.path());
    let idx_s = idx.to_str().unwrap();
    // A spinner with habits no thesaurus knows.
    let original = example("spun-news.original.txt");
    let weird = original
        .replace("granted", "blorfed")
        .replace("political", "zibbety");
    assert_ne!(weird, original);
    let pairs = dir.path().join("pairs.jsonl");
    std::fs::write(
        &pairs,
        format!(
            "{}\n",
            serde_json::json!({"spun": weird, "original": original})
        ),
    )
    .unwrap();
    let profile = dir.path().join("weird.profile");
    learn(&pairs, &profile);

    let trace = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["trace", "--index", idx_s, "--json"];
        args.extend_from_slice(extra);
        let o = unspin(&args, weird.as_bytes());
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["matches"][0].clone()
    };
    let plain = trace(&[]);
    let learned = trace(&["--profile", profile.to_str().unwrap()]);
    assert_eq!(plain["id"], "news-1");
    assert_eq!(learned["id"], "news-1");
    let explained = |m: &serde_json::Value, spun: &str| {
        m["alignment"]["edits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["spun"] == spun && e["explained"] == true)
    };
    assert!(!explained(&plain, "blorfed"), "{plain}");
    assert!(explained(&learned, "blorfed"), "{learned}");
    assert!(explained(&learned, "zibbety"), "{learned}");
    assert!(learned["score"].as_f64() > plain["score"].as_f64());
    assert_eq!(learned["alignment"]["unexplained"], 0, "{learned}");

    // A profile that is not one: a clear error, exit 2.
    let o = unspin(
        &[
            "trace",
            "--index",
            idx_s,
            "--profile",
            pairs.to_str().unwrap(),
        ],
        weird.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--profile"), "{}", text(&o.stderr));
}
