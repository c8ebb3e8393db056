//! `unspin serve`, the real binary: it starts, answers what the CLI prints, and stops cleanly on
//! SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
use common::{example, root, unspin};

/// A running `unspin serve` on a free loopback port.
struct Server {
    child: Child,
    addr: String,
    stderr: BufReader<std::process::ChildStderr>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_unspin"))
            .args(["serve", "--addr", "127.0.0.1:0", "--no-fingerprints"])
            .args(args)
            .env("UNSPIN_PACK", root().join("models/default.unspin"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run unspin serve");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let addr = loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                panic!("unspin serve exited before listening: {seen}");
            }
            seen.push_str(&line);
            if let Some(a) = line
                .trim()
                .strip_prefix("unspin serve: listening on http://")
            {
                break a.to_string();
            }
        };
        Server {
            child,
            addr,
            stderr,
        }
    }

    /// One HTTP/1.1 exchange: (status, body).
    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body.to_string())
    }

    fn post_json(&self, path: &str, v: &Value) -> (u16, Value) {
        let (status, body) = self.http("POST", path, &v.to_string());
        (status, serde_json::from_str(&body).expect("a JSON answer"))
    }

    /// SIGTERM, then the exit status and the rest of stderr.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let t = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if t.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("unspin serve did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        (status, rest)
    }
}

#[test]
fn serve_answers_as_the_cli_prints_and_stops_on_sigterm() {
    let server = Server::start(&[]);
    let (status, health) = server.http("GET", "/healthz", "");
    assert_eq!(status, 200, "{health}");
    let (status, page) = server.http("GET", "/", "");
    assert_eq!(status, 200);
    assert!(page.contains("<title>unspin"), "{page}");

    let text = example("spun-news.txt");
    let (status, api) = server.post_json("/v1/restore", &json!({ "text": text }));
    assert_eq!(status, 200);
    let cli = unspin(
        &[
            "restore",
            "--json",
            "--no-fingerprints",
            root().join("examples/spun-news.txt").to_str().unwrap(),
        ],
        b"",
    );
    assert!(cli.status.success());
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(api, cli, "the API and `unspin restore --json` differ");

    let (status, api) = server.post_json("/v1/detect", &json!({ "text": text }));
    assert_eq!(status, 200);
    let cli = unspin(
        &[
            "detect",
            "--json",
            "--no-fingerprints",
            root().join("examples/spun-news.txt").to_str().unwrap(),
        ],
        b"",
    );
    let mut cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    cli.as_object_mut().unwrap().remove("path");
    assert_eq!(api, cli, "the API and `unspin detect --json` differ");

    let (status, err) = server.post_json("/v1/detect", &json!({ "text": text, "threshold": -1 }));
    assert_eq!(status, 400);
    assert!(
        err["error"].as_str().unwrap().contains("threshold"),
        "{err}"
    );

    let (exit, stderr) = server.terminate();
    assert!(exit.success(), "{exit:?}: {stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
}

#[test]
fn serve_traces_with_an_index_as_unspin_trace_does() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs.jsonl");
    let mut f = std::fs::File::create(&docs).unwrap();
    for (id, t) in [
        ("news-1", example("spun-news.original.txt")),
        ("cooking", "Whisk two eggs with 200 g of flour and a pinch of salt, then leave the batter to rest for thirty minutes before frying.".to_string()),
    ] {
        writeln!(f, "{}", json!({ "id": id, "text": t })).unwrap();
    }
    drop(f);
    let idx = dir.path().join("news.idx");
    let o = unspin(
        &[
            "index",
            "build",
            docs.to_str().unwrap(),
            "-o",
            idx.to_str().unwrap(),
            "--progress",
            "never",
        ],
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let server = Server::start(&["--index", idx.to_str().unwrap()]);
    let text = example("spun-news.txt");
    let (status, api) = server.post_json("/v1/trace", &json!({ "text": text }));
    assert_eq!(status, 200, "{api}");
    let cli = unspin(
        &[
            "trace",
            "--json",
            "--index",
            idx.to_str().unwrap(),
            root().join("examples/spun-news.txt").to_str().unwrap(),
        ],
        b"",
    );
    assert!(cli.status.success());
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(api, cli, "the API and `unspin trace --json` differ");
    assert_eq!(api["matches"][0]["id"], "news-1");
    let (exit, _) = server.terminate();
    assert!(exit.success());

    // With --profile, the learned rules explain a spinner's substitutions no thesaurus knows,
    // as in `unspin trace --profile`.
    let original = example("spun-news.original.txt");
    let weird = original.replace("granted", "blorfed");
    let pairs = dir.path().join("pairs.jsonl");
    std::fs::write(
        &pairs,
        format!("{}\n", json!({ "spun": weird, "original": original })),
    )
    .unwrap();
    let profile = dir.path().join("weird.profile");
    let o = unspin(
        &[
            "learn",
            pairs.to_str().unwrap(),
            "-o",
            profile.to_str().unwrap(),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let weird_file = dir.path().join("weird.txt");
    std::fs::write(&weird_file, &weird).unwrap();
    let server = Server::start(&[
        "--index",
        idx.to_str().unwrap(),
        "--profile",
        profile.to_str().unwrap(),
    ]);
    let (status, api) = server.post_json("/v1/trace", &json!({ "text": weird }));
    assert_eq!(status, 200, "{api}");
    let cli = unspin(
        &[
            "trace",
            "--json",
            "--index",
            idx.to_str().unwrap(),
            "--profile",
            profile.to_str().unwrap(),
            weird_file.to_str().unwrap(),
        ],
        b"",
    );
    assert!(cli.status.success());
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(
        api, cli,
        "the API and `unspin trace --json --profile` differ"
    );
    let edits = api["matches"][0]["alignment"]["edits"].as_array().unwrap();
    assert!(
        edits
            .iter()
            .any(|e| e["spun"] == "blorfed" && e["explained"] == true),
        "{api}"
    );
    let (exit, _) = server.terminate();
    assert!(exit.success());
}

#[test]
fn serve_refuses_bad_limits_and_a_missing_index() {
    for (args, needle) in [
        (vec!["--concurrency", "0"], "--concurrency"),
        (vec!["--timeout", "0"], "--timeout"),
        (vec!["--threshold", "3"], "--threshold"),
        (vec!["--index", "/nonexistent/x.idx"], "cannot open index"),
    ] {
        let mut a = vec!["serve", "--addr", "127.0.0.1:0"];
        a.extend(&args);
        let o = unspin(&a, b"");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// `unspin serve --precise`: the server's sentence model answers as `restore --precise` and
/// `detect --precise` print, and a request may turn it off.
#[cfg(feature = "precise")]
#[test]
fn serve_precise_answers_as_the_precise_cli_prints() {
    let Some(model) = common::neural_model() else {
        return;
    };
    let model = model.to_str().unwrap();
    let server = Server::start(&["--precise", "--neural-model", model]);
    let (status, health) = server.http("GET", "/healthz", "");
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["precise"], "smollm2-135m", "{health}");

    let path = root().join("examples/spun-news.txt");
    let path = path.to_str().unwrap();
    let text = example("spun-news.txt");
    for (endpoint, command) in [("/v1/restore", "restore"), ("/v1/detect", "detect")] {
        let (status, api) = server.post_json(endpoint, &json!({ "text": text }));
        assert_eq!(status, 200, "{api}");
        assert_eq!(api["scorer"], "smollm2-135m", "{api}");
        let cli = unspin(
            &[
                command,
                "--json",
                "--no-fingerprints",
                "--precise",
                "--neural-model",
                model,
                path,
            ],
            b"",
        );
        let mut cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
        cli.as_object_mut().unwrap().remove("path");
        assert_eq!(
            api, cli,
            "the API and `unspin {command} --precise --json` differ"
        );

        let (status, plain) =
            server.post_json(endpoint, &json!({ "text": text, "precise": false }));
        assert_eq!(status, 200, "{plain}");
        assert_eq!(plain["scorer"], "trigram", "{plain}");
    }
    let (exit, stderr) = server.terminate();
    assert!(exit.success(), "{exit:?}: {stderr}");
}
