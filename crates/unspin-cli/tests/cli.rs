//! End-to-end tests of the `unspin` binary with the committed default pack.

use std::io::Write;
use std::process::{Command, Output, Stdio};

mod common;
#[cfg(feature = "precise")]
use common::neural_model;
use common::{pack, root, unspin};

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn restores_the_example_paragraph() {
    let spun = std::fs::read_to_string(root().join("examples/spun-news.txt")).unwrap();
    let original = std::fs::read_to_string(root().join("examples/spun-news.original.txt")).unwrap();
    let o = unspin(&["restore", "examples/spun-news.txt"], b"");
    // The path is relative to the repository root; run from there.
    let o = if o.status.success() {
        o
    } else {
        let p = root().join("examples/spun-news.txt");
        unspin(&["restore", p.to_str().unwrap()], b"")
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let restored = stdout(&o);
    let before = unspin::eval::wer(&spun, &original);
    let after = unspin::eval::wer(&restored, &original);
    assert!(
        after < before,
        "restoring made it no better: {before} → {after}\n{restored}"
    );
    assert!(restored.contains("war in Ukraine"), "{restored}");
    assert!(restored.contains("temporary visas"), "{restored}");
}

#[test]
fn json_spans_slice_the_input_and_rebuild_the_output() {
    let input =
        "Six Russian troopers who fled the warfare in Ukraine have been granted momentary visas.\n";
    let o = unspin(&["restore", "--json", "-"], input.as_bytes());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let text = v["text"].as_str().unwrap();
    let spans = v["spans"].as_array().unwrap();
    assert!(!spans.is_empty());
    let mut rebuilt = String::new();
    let mut at = 0;
    for s in spans {
        for key in [
            "start",
            "end",
            "spun",
            "restored",
            "confidence",
            "alternatives",
        ] {
            assert!(s.get(key).is_some(), "span lacks {key}: {s}");
        }
        let (a, b) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&input[a..b], s["spun"].as_str().unwrap());
        let c = s["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        rebuilt.push_str(&input[at..a]);
        rebuilt.push_str(s["restored"].as_str().unwrap());
        at = b;
    }
    rebuilt.push_str(&input[at..]);
    assert_eq!(rebuilt, text);
}

#[test]
fn keeps_bytes_lines_and_case() {
    let input = "“Didn’t the TROOPERS flee?” she asked.\n\n\tThe 1000’s of troopers   fled the warfare.\r\nEnd";
    let o = unspin(&["restore"], input.as_bytes());
    assert!(o.status.success());
    let out = stdout(&o);
    assert_eq!(out.matches('\n').count(), input.matches('\n').count());
    for kept in ["“Didn’t", "?” she asked.\n\n\t", "1000’s", "   ", "\r\nEnd"] {
        assert!(out.contains(kept), "lost {kept:?} in {out:?}");
    }
}

#[test]
fn empty_input_gives_empty_output() {
    let o = unspin(&["restore"], b"");
    assert!(o.status.success());
    assert_eq!(o.stdout, b"");
}

#[test]
fn invalid_utf8_names_the_offset() {
    let o = unspin(&["restore"], b"abc\xffdef");
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("invalid UTF-8 at byte offset 3"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    let o = unspin(&["restore", "--lossy"], b"abc\xffdef");
    assert!(o.status.success());
    assert_eq!(stdout(&o), "abc\u{fffd}def");
}

#[test]
fn bad_packs_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(pack()).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", good[..good.len() / 2].to_vec(), "truncated"),
        (
            "corrupt",
            {
                let mut b = good.clone();
                let n = b.len();
                b[n - 100] ^= 0x55;
                b
            },
            "corrupt",
        ),
        (
            "version",
            {
                let mut b = good.clone();
                b[8] = 200;
                b
            },
            "version",
        ),
        (
            "magic",
            b"not a pack at all".to_vec(),
            "not an unspin model pack",
        ),
    ];
    for (name, bytes, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = unspin(&["restore", "--pack", p.to_str().unwrap()], b"text");
        assert_eq!(o.status.code(), Some(2), "{name}");
        let e = stderr(&o);
        assert!(e.contains(want), "{name}: {e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{name}: {e}");
    }
    let o = unspin(&["restore", "--pack", "/nonexistent/pack"], b"text");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/pack"));
}

#[test]
fn diff_is_plain_when_piped() {
    let o = unspin(&["restore", "--diff"], b"They fled the warfare in Ukraine.");
    let out = stdout(&o);
    assert!(out.contains("[-warfare-]{+war+}"), "{out}");
    assert!(!out.contains('\x1b'));
}

#[test]
fn spin_is_deterministic_and_reports_truth() {
    let text = std::fs::read_to_string(root().join("examples/spun-news.original.txt")).unwrap();
    let a = unspin(&["spin", "--seed", "7", "--json"], text.as_bytes());
    let b = unspin(&["spin", "--seed", "7", "--json"], text.as_bytes());
    let c = unspin(&["spin", "--seed", "8", "--json"], text.as_bytes());
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let spun = v["text"].as_str().unwrap();
    let subs = v["substitutions"].as_array().unwrap();
    assert!(subs.len() >= 3, "{v}");
    for s in subs {
        let (a, b) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[a..b], s["original"].as_str().unwrap());
        let (a, b) = (
            s["spun_start"].as_u64().unwrap() as usize,
            s["spun_end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&spun[a..b], s["spun"].as_str().unwrap());
    }
}

#[test]
fn spintax_renders_and_rejects_unbalanced() {
    let o = unspin(
        &["spin", "--spintax", "--rate", "0", "--seed", "3"],
        b"{Hello|Hi} {world|there}",
    );
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        ["Hello world", "Hello there", "Hi world", "Hi there"].contains(&out.as_str()),
        "{out}"
    );
    let o = unspin(&["spin", "--spintax", "--rate", "0"], b"{a|b");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unclosed '{' opened at byte 0"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn precise_mode_is_never_a_silent_fallback() {
    // The default build has no neural model compiled in; with `--features precise` the model
    // path below does not exist. Either way: one line, exit 2, for restore and detect alike.
    for cmd in ["restore", "detect"] {
        let o = unspin(
            &[
                cmd,
                "--precise",
                "--neural-model",
                "/nonexistent/model.gguf",
            ],
            b"They fled the warfare.",
        );
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let e = stderr(&o);
        assert!(e.contains("--precise"), "{e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{e}");
        assert!(o.stdout.is_empty());
    }
    // scan opens its workers' models before reading any record.
    let o = unspin(
        &[
            "scan",
            "-",
            "--precise",
            "--neural-model",
            "/nonexistent/model.gguf",
        ],
        b"They fled the warfare.",
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--precise"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(o.stdout.is_empty());
}

#[test]
fn json_names_the_scorer() {
    let o = unspin(&["restore", "--json"], b"They fled the warfare in Ukraine.");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scorer"], "trigram");
}

/// Precise mode for real: the SmolLM2 model from scripts/fetch-neural.sh.
#[cfg(feature = "precise")]
#[test]
fn precise_mode_restores_with_the_sentence_model() {
    let Some(model) = neural_model() else {
        return;
    };
    let p = root().join("examples/spun-news.txt");
    // 8-bit products (the default where the CPU has AVX-512 VNNI) and f32 ones.
    for extra in [None, Some("--neural-exact")] {
        let mut args = vec![
            "restore",
            "--precise",
            "--json",
            "--neural-model",
            model.to_str().unwrap(),
            p.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = unspin(&args, b"");
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["scorer"], "smollm2-135m");
        let text = v["text"].as_str().unwrap();
        assert!(text.contains("temporary visas"), "{extra:?}: {text}");
        // The trigram's false change ("main event") is one the sentence model does not make.
        assert!(text.contains("main case"), "{extra:?}: {text}");
    }
}

#[test]
fn neural_exact_needs_precise() {
    let o = unspin(&["restore", "--neural-exact"], b"They fled the warfare.");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--precise"), "{}", stderr(&o));
}

/// Brown press texts, from the sources scripts/test.sh fetches (required there).
fn brown_texts(n: usize) -> Vec<String> {
    let dir = root().join("target/sources/brown");
    if !dir.join("ca01").exists() {
        assert!(
            std::env::var_os("UNSPIN_REQUIRE_SOURCES").is_none(),
            "Brown corpus missing at {}",
            dir.display()
        );
        eprintln!("Brown corpus not fetched; run scripts/fetch-sources.sh");
        return Vec::new();
    }
    unspin::eval::read_brown(&dir, "ca")
        .unwrap()
        .into_iter()
        .take(n)
        .map(|(_, t)| t)
        .collect()
}

#[test]
fn detect_exits_like_grep_and_reports_each_input() {
    let Some(clean) = brown_texts(1).pop() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clean_path = dir.path().join("clean.txt");
    std::fs::write(&clean_path, &clean).unwrap();
    let o = unspin(
        &["spin", "--seed", "3", "--rate", "0.3", "--phrases"],
        clean.as_bytes(),
    );
    assert!(o.status.success());
    let spun_path = dir.path().join("spun.txt");
    std::fs::write(&spun_path, &o.stdout).unwrap();
    let (c, s) = (clean_path.to_str().unwrap(), spun_path.to_str().unwrap());

    // Nothing flagged: exit 1.
    let o = unspin(&["detect", c], b"");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("not spun"), "{}", stdout(&o));
    // Something flagged: exit 0, one JSON object per input, in order.
    let o = unspin(&["detect", "--json", c, s], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["flagged"], false);
    assert_eq!(lines[1]["flagged"], true);
    let spun = std::fs::read_to_string(&spun_path).unwrap();
    let spans = lines[1]["spans"].as_array().unwrap();
    assert!(!spans.is_empty());
    for sp in spans {
        let (a, b) = (
            sp["start"].as_u64().unwrap() as usize,
            sp["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&spun[a..b], sp["spun"].as_str().unwrap());
        assert!(sp["original"].is_string() && sp["log_odds"].is_number());
    }
    for key in ["score", "paragraphs", "words", "path"] {
        assert!(!lines[1][key].is_null(), "missing {key}");
    }
    // The threshold decides: at 0 even the clean text is flagged.
    let o = unspin(&["detect", "--threshold", "0", c], b"");
    assert_eq!(o.status.code(), Some(0));
    let o = unspin(&["detect", "--threshold", "1.5", c], b"");
    assert_eq!(
        o.status.code(),
        Some(2),
        "out-of-range threshold is an error"
    );
    // A missing input is reported on its own line; the others are still scored; exit 2.
    let o = unspin(&["detect", "--json", "no-such-file.txt", s], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-file.txt"), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 1);
}

#[test]
fn fingerprint_lists_import_install_and_screen() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("pps.csv");
    std::fs::write(
        &csv,
        "tortured_phrase,expected_phrase,num_papers\n\
         \"\"\"liver sickness\"\"\",liver disease,154\n\
         \"\"\"genetic calculation\"\" AND \"\"genetic algorithm\"\"\",genetic algorithm,538\n\
         \"\"\"broken\"\" ADN \"\"query\"\"\",x,1\n",
    )
    .unwrap();
    let run = |args: &[&str], stdin: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_unspin"))
            .args(args)
            .env("UNSPIN_PACK", pack())
            .env("UNSPIN_DATA_DIR", &data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A run that fails early may close its input unread.
        let _ = child.stdin.take().unwrap().write_all(stdin);
        child.wait_with_output().unwrap()
    };
    // Nothing installed yet: fingerprint-only screening has nothing to screen with.
    let o = run(&["detect", "--fingerprints-only"], b"liver sickness");
    assert_eq!(o.status.code(), Some(2));
    // The bad row is named with its line and column; the rest is imported and installed.
    let o = run(&["fingerprints", "import", csv.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("row 4") && e.contains("column"), "{e}");
    assert!(
        e.contains("imported 2 fingerprints") && e.contains("1 rows skipped"),
        "{e}"
    );
    assert!(data.join("fingerprints.json").exists());

    let text = "The liver sick-\nness of a genetic calculation.\n";
    let o = run(
        &["detect", "--fingerprints-only", "--json"],
        text.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hits = v["fingerprints"].as_array().unwrap();
    // The AND clause's context term is absent, so only one phrase is reported.
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["expected"], "liver disease");
    let (a, b) = (
        hits[0]["start"].as_u64().unwrap() as usize,
        hits[0]["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&text[a..b], "liver sick-\nness");
    // Restore uses the installed list by default, and not with --no-fingerprints.
    let o = run(&["restore"], text.as_bytes());
    assert!(stdout(&o).contains("liver disease"), "{}", stdout(&o));
    let o = run(&["restore", "--no-fingerprints"], text.as_bytes());
    assert!(!stdout(&o).contains("liver disease"));
    // A clean text has no hits: exit 1.
    let o = run(&["detect", "--fingerprints-only"], b"The liver is fine.");
    assert_eq!(o.status.code(), Some(1));
    // A corrupt list is a one-line error.
    std::fs::write(data.join("fingerprints.json"), b"{\"format\":").unwrap();
    let o = run(&["detect", "--fingerprints-only"], b"x");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn learn_writes_a_profile_that_restore_uses() {
    let dir = tempfile::tempdir().unwrap();
    let spun = std::fs::read_to_string(root().join("examples/spun-news.txt")).unwrap();
    let original = std::fs::read_to_string(root().join("examples/spun-news.original.txt")).unwrap();
    let pairs = dir.path().join("pairs.jsonl");
    std::fs::write(
        &pairs,
        serde_json::json!({"spun": spun, "original": original}).to_string() + "\n",
    )
    .unwrap();
    let profile = dir.path().join("profile.json");
    let o = unspin(
        &[
            "learn",
            pairs.to_str().unwrap(),
            "-o",
            profile.to_str().unwrap(),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = unspin(&["profile", "show", profile.to_str().unwrap()], b"");
    assert!(o.status.success());
    let shown = stdout(&o);
    assert!(shown.contains("troopers → soldiers"), "{shown}");
    assert!(shown.contains("gaggle → group"), "{shown}");
    // Without the profile the trigram leaves these; with it they are undone.
    let plain = stdout(&unspin(&["restore"], spun.as_bytes()));
    let o = unspin(
        &["restore", "--profile", profile.to_str().unwrap()],
        spun.as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let learned = stdout(&o);
    assert!(!plain.contains("group of deserters"), "{plain}");
    assert!(learned.contains("group of deserters"), "{learned}");
    assert!(learned.contains("Russian soldiers"), "{learned}");
    // Detect and scan take the profile too.
    let ex = root().join("examples/spun-news.txt");
    for args in [
        vec!["detect", "--json", "--profile"],
        vec!["scan", "--no-fingerprints", "--profile"],
    ] {
        let mut args = args;
        args.push(profile.to_str().unwrap());
        args.push(ex.to_str().unwrap());
        let o = unspin(&args, b"");
        let v: serde_json::Value =
            serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
        assert!(
            v["spans"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["original"] == "group"),
            "{args:?}: {v}"
        );
    }
    // Merging a profile with itself doubles its counts.
    let merged = dir.path().join("merged.json");
    let o = unspin(
        &[
            "profile",
            "merge",
            profile.to_str().unwrap(),
            profile.to_str().unwrap(),
            "-o",
            merged.to_str().unwrap(),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Without pairs: what the restorer undoes in several of the spinner's texts.
    let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
    std::fs::write(&a, &spun).unwrap();
    std::fs::write(&b, format!("Another story.\n\n{spun}")).unwrap();
    let found = dir.path().join("found.json");
    let o = unspin(
        &[
            "learn",
            "--unpaired",
            "--pool",
            "1",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "-o",
            found.to_str().unwrap(),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("warfare → war"), "{}", stdout(&o));
    let o = unspin(&["profile", "show", found.to_str().unwrap()], b"");
    assert!(stdout(&o).contains("warfare → war"), "{}", stdout(&o));
    // With the profile, only what goes beyond it is proposed: it already knows warfare.
    let o = unspin(
        &[
            "learn",
            "--unpaired",
            "--profile",
            profile.to_str().unwrap(),
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("warfare → war"), "{}", stdout(&o));
    // Learning from pairs takes no --profile (profiles are merged with `profile merge`).
    let o = unspin(
        &[
            "learn",
            pairs.to_str().unwrap(),
            "--profile",
            profile.to_str().unwrap(),
            "-o",
            found.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--unpaired"), "{}", stderr(&o));
    // A bad record names its file and line; exit 2.
    std::fs::write(
        &pairs,
        "{\"spun\": \"a\", \"original\": \"b\"}\n{\"spun\": 1}\n",
    )
    .unwrap();
    let o = unspin(
        &[
            "learn",
            pairs.to_str().unwrap(),
            "-o",
            profile.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
    // A damaged profile is a one-line error.
    std::fs::write(&profile, b"not json").unwrap();
    let o = unspin(&["restore", "--profile", profile.to_str().unwrap()], b"x");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
}

/// Detect in precise mode names its scorer and keeps its evidence well-formed.
#[cfg(feature = "precise")]
#[test]
fn precise_detect_uses_the_sentence_model() {
    let Some(model) = neural_model() else {
        return;
    };
    let spun = std::fs::read_to_string(root().join("examples/spun-news.txt")).unwrap();
    let o = unspin(
        &[
            "detect",
            "--precise",
            "--json",
            "--neural-model",
            model.to_str().unwrap(),
        ],
        spun.as_bytes(),
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scorer"], "smollm2-135m");
    for sp in v["spans"].as_array().unwrap() {
        let (a, b) = (
            sp["start"].as_u64().unwrap() as usize,
            sp["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&spun[a..b], sp["spun"].as_str().unwrap());
    }
    assert!(v["spans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["original"] == "temporary"));
}

/// Scan in precise mode: every worker scores with its own sentence model, in input order.
#[cfg(feature = "precise")]
#[test]
fn precise_scan_uses_the_sentence_model_on_every_worker() {
    let Some(model) = neural_model() else {
        return;
    };
    let spun = std::fs::read_to_string(root().join("examples/spun-news.txt")).unwrap();
    let mut input = String::new();
    for i in 0..3 {
        input
            .push_str(&serde_json::json!({"id": format!("r{i}"), "text": spun.trim()}).to_string());
        input.push('\n');
    }
    let o = unspin(
        &[
            "scan",
            "-",
            "--format",
            "jsonl",
            "-j",
            "2",
            "--precise",
            "--neural-model",
            model.to_str().unwrap(),
        ],
        input.as_bytes(),
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (i, v) in lines.iter().enumerate() {
        assert_eq!(v["id"], format!("r{i}"));
        assert_eq!(v["scorer"], "smollm2-135m", "{v}");
        assert!(v["spans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["original"] == "temporary"));
    }
}

/// `unspin eval detect` on the fetched Brown corpus at rate 0.3, with `args` after.
fn eval_detect(args: &[&str]) -> Output {
    let brown = root().join("target/sources/brown");
    let mut all = vec!["eval", "detect", "--brown", brown.to_str().unwrap()];
    all.extend_from_slice(&["--rates", "0.3"]);
    all.extend_from_slice(args);
    unspin(&all, b"")
}

#[test]
fn eval_detect_judges_paragraphs_alone_and_knows_the_uniform_spinner() {
    if brown_texts(1).is_empty() {
        return;
    }
    let o = eval_detect(&[
        "--docs",
        "2",
        "--configs",
        "uniform",
        "--paragraphs",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["paragraphs_alone"], true);
    assert_eq!(v["scorer"], "trigram");
    assert_eq!(v["results"][0]["config"], "uniform");
    // Each paragraph counts as a document of its own.
    assert_eq!(v["docs"], 2);
    assert!(v["results"][0]["doc_auc"].as_f64().unwrap() > 0.5, "{v}");
    let o = eval_detect(&["--configs", "spun"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("uniform"), "{}", stderr(&o));
}

/// `--genre` takes a list: `--skip` and `--docs` apply to each genre, and the documents pool.
#[test]
fn eval_detect_pools_a_list_of_genres() {
    if brown_texts(1).is_empty() {
        return;
    }
    let run = |genre: &str| {
        eval_detect(&[
            "--genre",
            genre,
            "--skip",
            "15",
            "--docs",
            "1",
            "--configs",
            "same",
            "--json",
        ])
    };
    let json = |genre: &str| {
        let o = run(genre);
        assert!(o.status.success(), "{genre}: {}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let (cb, cd, both) = (json("cb"), json("cd"), json("cb,cd"));
    assert_eq!(both["docs"], 2, "{both}");
    assert_eq!(
        both["paragraphs"].as_u64().unwrap(),
        cb["paragraphs"].as_u64().unwrap() + cd["paragraphs"].as_u64().unwrap()
    );
    assert_eq!(both["genre"], "cb,cd");
    // cm has six texts: none past the fifteenth, and the error names it.
    let o = run("cb,cm");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"cm\""), "{}", stderr(&o));
}

/// `eval detect --precise`: every text scored with the sentence model, as `detect --precise`.
#[cfg(feature = "precise")]
#[test]
fn eval_detect_scores_with_the_sentence_model() {
    let Some(model) = neural_model() else {
        return;
    };
    if brown_texts(1).is_empty() {
        return;
    }
    let o = eval_detect(&[
        "--docs",
        "1",
        "--configs",
        "same",
        "--precise",
        "--neural-model",
        model.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scorer"], "smollm2-135m");
    // One clean document against its copy spun at 0.3: the copy scores higher.
    assert_eq!(v["results"][0]["doc_auc"], 1.0, "{v}");
}

#[test]
fn spin_takes_a_taste_for_common_words() {
    let text = std::fs::read_to_string(root().join("examples/spun-news.original.txt")).unwrap();
    let args = |x: &'static str| {
        [
            "spin",
            "--seed",
            "7",
            "--rate",
            "0.5",
            "--frequency-exponent",
            x,
        ]
    };
    let common = unspin(&args("0.5"), text.as_bytes());
    let default = unspin(&["spin", "--seed", "7", "--rate", "0.5"], text.as_bytes());
    let any = unspin(&args("0"), text.as_bytes());
    assert_eq!(common.stdout, default.stdout);
    assert_ne!(any.stdout, default.stdout, "{}", stdout(&any));
    assert!(unspin(&args("-0.5"), text.as_bytes()).status.success());
}

#[test]
fn learn_unpaired_pools_one_spinners_texts() {
    // Six pages of one content farm: alone, each gives too little evidence that *troopers* was
    // spun; restored together, the word is decided once for all six.
    let dir = tempfile::tempdir().unwrap();
    let spun = std::fs::read_to_string(root().join("examples/spun-news.txt")).unwrap();
    let mut files = Vec::new();
    for i in 0..6 {
        let f = dir.path().join(format!("{i}.txt"));
        std::fs::write(&f, &spun).unwrap();
        files.push(f.to_str().unwrap().to_string());
    }
    let run = |pool: &str| {
        let mut args = vec!["learn", "--unpaired", "--pool", pool];
        args.extend(files.iter().map(String::as_str));
        let o = unspin(&args, b"");
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let alone = run("1");
    assert!(!alone.contains("troopers → soldiers"), "{alone}");
    let pooled = run("10");
    assert!(pooled.contains("troopers → soldiers"), "{pooled}");
    let o = unspin(&["learn", "--unpaired", "--pool", "0", &files[0]], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--pool"), "{}", stderr(&o));
}

#[test]
fn learn_from_a_tortured_phrase_list_and_screen_new_phrases() {
    let dir = tempfile::tempdir().unwrap();
    let list = root().join("crates/unspin/tests/data/pps_sample.csv");
    let list = list.to_str().unwrap();
    let profile = dir.path().join("paper-mill.json");
    let profile = profile.to_str().unwrap();
    let o = unspin(&["learn", "--from-list", list, "-o", profile], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    // The malformed row is named, the rest learned from.
    let err = stderr(&o);
    assert!(err.contains("row 30") && err.contains("ADN"), "{err}");
    assert!(err.contains("learned from 39 of 50 entries"), "{err}");
    let shown = stdout(&unspin(&["profile", "show", profile, "--top", "100"], b""));
    assert!(shown.contains("fleecy → fuzzy"), "{shown}");
    // A phrase the list does not hold.
    let phrase = b"We use fleecy logic here.\n";
    let plain = unspin(&["restore", "--no-fingerprints"], phrase);
    assert_eq!(stdout(&plain), "We use fleecy logic here.\n");
    let o = unspin(
        &["restore", "--no-fingerprints", "--profile", profile],
        phrase,
    );
    assert_eq!(stdout(&o), "We use fuzzy logic here.\n", "{}", stderr(&o));
    // Cross-validated on the list itself.
    let o = unspin(&["eval", "tortured", list, "--folds", "3"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(
            "3 folds, each restored with a profile learned from the other folds' entries"
        ),
        "{}",
        stdout(&o)
    );
    // Learning from a list is not learning without pairs.
    let o = unspin(&["learn", "--from-list", "--unpaired", list], b"");
    assert_eq!(o.status.code(), Some(2));
}
