//! Text files, inputs (files, directories, globs, stdin) and runs over many files.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use unspin_io::{expand, records, scan, Error, Format, InputOptions, Ordinal, RecordError};

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, data).unwrap();
    path
}

#[test]
fn text_files() {
    let dir = tempfile::tempdir().unwrap();
    let table: &[(&str, &[u8], Result<&str, &str>)] = &[
        ("plain.txt", b"Hello,\nworld.\n", Ok("Hello,\nworld.\n")),
        ("bom.txt", b"\xef\xbb\xbfwith bom", Ok("with bom")),
        ("empty.txt", b"", Ok("")),
        ("latin1.txt", b"caf\xe9", Err("invalid utf-8 at byte 3")),
        (
            "binary.txt",
            b"\x7fELF\x02\x01\x01\0\0\0",
            Err("binary content (NUL byte at byte 7"),
        ),
        (
            "long.txt",
            &[b'a'; 101],
            Err("record longer than the limit of 100 bytes"),
        ),
        (
            "limit.txt",
            &[b'a'; 100],
            Ok(std::str::from_utf8(&[b'a'; 100]).unwrap()),
        ),
    ];
    let mut options = InputOptions::default();
    options.max_record_bytes = 100;
    for (name, data, want) in table {
        for (suffix, bytes) in [("", data.to_vec()), (".gz", gzip(data))] {
            let path = write(dir.path(), &format!("{name}{suffix}"), &bytes);
            let got: Vec<_> = records(&path, &options).collect();
            assert_eq!(got.len(), 1, "{name}{suffix}");
            let r = &got[0];
            assert_eq!(r.id, path.display().to_string());
            assert_eq!((r.source.line, r.source.offset), (Some(1), 0));
            match (&r.body, want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{name}{suffix}"),
                (Err(g), Err(w)) => assert!(g.to_string().starts_with(w), "{name}{suffix}: {g}"),
                (g, w) => panic!("{name}{suffix}: got {g:?}, want {w:?}"),
            }
        }
    }
}

#[test]
fn truncated_gzip_text() {
    let dir = tempfile::tempdir().unwrap();
    let data = gzip("some text ".repeat(100).as_bytes());
    let path = write(dir.path(), "cut.txt.gz", &data[..data.len() - 4]);
    let got: Vec<_> = records(&path, &InputOptions::default()).collect();
    assert!(
        matches!(got[0].body, Err(RecordError::TruncatedGzip(_))),
        "{:?}",
        got[0].body
    );
}

#[test]
fn unreadable_and_unknown_files_are_error_records() {
    let dir = tempfile::tempdir().unwrap();
    let got: Vec<_> = records(&dir.path().join("missing.txt"), &InputOptions::default()).collect();
    assert_eq!(got.len(), 1);
    assert!(matches!(got[0].body, Err(RecordError::Read(_))));
    let path = write(dir.path(), "notes.md", b"x");
    let got: Vec<_> = records(&path, &InputOptions::default()).collect();
    assert!(matches!(got[0].body, Err(RecordError::UnknownFormat)));
    // An explicit format reads any name.
    let mut options = InputOptions::default();
    options.format = Some(Format::Text);
    let got: Vec<_> = records(&path, &options).collect();
    assert_eq!(got[0].text(), Some("x"));
}

#[test]
fn format_names() {
    let table: &[(&str, Option<Format>)] = &[
        ("a.txt", Some(Format::Text)),
        ("a.TXT.GZ", Some(Format::Text)),
        ("a.text", Some(Format::Text)),
        ("a.jsonl", Some(Format::Jsonl)),
        ("a.json", Some(Format::Jsonl)),
        ("a.ndjson.gz", Some(Format::Jsonl)),
        ("a.warc", Some(Format::Warc)),
        ("a.warc.gz", Some(Format::Warc)),
        ("a.warc.wet.gz", Some(Format::Warc)),
        ("a.wet", Some(Format::Warc)),
        ("a.wet.gz", Some(Format::Warc)),
        ("a.pdf", Some(Format::Pdf)),
        ("a.gz", None),
        ("a", None),
        ("txt", None),
        ("a.warc.wat.gz", None),
    ];
    for (name, want) in table {
        assert_eq!(Format::from_path(Path::new(name)), *want, "{name}");
    }
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>().unwrap(), f);
    }
    assert_eq!("WET".parse::<Format>().unwrap(), Format::Warc);
    assert!(matches!(
        "html".parse::<Format>(),
        Err(Error::UnknownFormatName { .. })
    ));
}

#[test]
fn expand_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for name in [
        "b/2.txt",
        "b/10.txt",
        "b/c/x.jsonl",
        "b/.git/x.txt",
        "b/readme.md",
        "a.warc.gz",
        "z.pdf",
        "y.md",
    ] {
        write(d, name, b"");
    }
    let rel = |files: Vec<PathBuf>| -> Vec<String> {
        files
            .iter()
            .map(|f| f.strip_prefix(d).unwrap_or(f).display().to_string())
            .collect()
    };
    let options = InputOptions::default();
    // Directories: recursive, sorted by name, hidden and unknown files left out.
    assert_eq!(
        rel(expand(&[d.join("b")], &options).unwrap()),
        ["b/10.txt", "b/2.txt", "b/c/x.jsonl"]
    );
    // Inputs keep their order; the same file twice is read twice.
    let inputs = [
        d.join("z.pdf"),
        d.join("b"),
        PathBuf::from("-"),
        d.join("z.pdf"),
    ];
    assert_eq!(
        rel(expand(&inputs, &options).unwrap()),
        ["z.pdf", "b/10.txt", "b/2.txt", "b/c/x.jsonl", "-", "z.pdf"]
    );
    // Globs, sorted; a matched directory is walked.
    let glob = |p: &str| d.join(p);
    assert_eq!(
        rel(expand(&[glob("*")], &options).unwrap()),
        ["a.warc.gz", "b/10.txt", "b/2.txt", "b/c/x.jsonl", "z.pdf"]
    );
    assert_eq!(
        rel(expand(&[glob("b/*.txt")], &options).unwrap()),
        ["b/10.txt", "b/2.txt"]
    );
    assert_eq!(
        rel(expand(&[glob("**/*.jsonl")], &options).unwrap()),
        ["b/c/x.jsonl"]
    );
    // With an explicit format, every file found is read.
    let mut text = InputOptions::default();
    text.format = Some(Format::Text);
    assert_eq!(
        rel(expand(&[d.join("b")], &text).unwrap()),
        ["b/10.txt", "b/2.txt", "b/c/x.jsonl", "b/readme.md"]
    );
    assert_eq!(rel(expand(&[d.join("y.md")], &text).unwrap()), ["y.md"]);
    // Errors.
    assert!(matches!(
        expand(&[d.join("nope.txt")], &options),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        expand(&[glob("*.nope")], &options),
        Err(Error::NoMatch { .. })
    ));
    assert!(matches!(
        expand(&[glob("[")], &options),
        Err(Error::Pattern { .. })
    ));
    assert!(matches!(
        expand(&[d.join("y.md")], &options),
        Err(Error::UnknownFormat { .. })
    ));
    std::fs::create_dir(d.join("empty")).unwrap();
    assert!(matches!(
        expand(&[d.join("empty")], &options),
        Err(Error::NoMatch { .. })
    ));
    let e = expand(&[d.join("y.md")], &options).unwrap_err().to_string();
    assert!(
        e.starts_with("cannot tell the format of ") && e.contains("y.md"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn links_to_directories_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a/1.txt", b"x");
    std::os::unix::fs::symlink(d.join("a"), d.join("a/loop")).unwrap();
    std::os::unix::fs::symlink(d.join("a/1.txt"), d.join("a/2.txt")).unwrap();
    let files = expand(&[d.join("a")], &InputOptions::default()).unwrap();
    assert_eq!(files, [d.join("a/1.txt"), d.join("a/2.txt")]);
}

/// A run over several files in several formats; ordinals, skipped counts and resuming.
#[test]
fn scan_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "1.txt", b"first file");
    write(d, "2.jsonl", b"{\"text\": \"a\"}\nbad\n{\"text\": \"b\"}\n");
    write(
        d,
        "3.warc.gz",
        &gzip_members(&[
            wet_info(),
            wet(1, "http://e.com/", "w1"),
            wet(2, "http://e.com/", "w2"),
        ]),
    );
    write(d, "4.txt", b"last");
    let options = InputOptions::default();
    let files = expand(&[d.to_path_buf()], &options).unwrap();
    let mut run = scan(files.clone(), &options);
    let all: Vec<_> = run.by_ref().collect();
    assert_eq!(run.skipped(), 1);
    let ords: Vec<(usize, u64)> = all
        .iter()
        .map(|r| (r.source.ordinal.file, r.source.ordinal.record))
        .collect();
    assert_eq!(
        ords,
        [(0, 0), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (3, 0)]
    );
    let texts: Vec<Option<&str>> = all.iter().map(|r| r.text()).collect();
    assert_eq!(
        texts,
        [
            Some("first file"),
            Some("a"),
            None,
            Some("b"),
            Some("w1"),
            Some("w2"),
            Some("last")
        ]
    );
    // Ordinals sort in reading order.
    assert!(all
        .windows(2)
        .all(|w| w[0].source.ordinal < w[1].source.ordinal));
    for (k, r) in all.iter().enumerate() {
        let rest: Vec<_> = scan(files.clone(), &options)
            .resume_at(r.source.ordinal)
            .collect();
        assert_eq!(rest.len(), all.len() - k, "resume at {}", r.source.ordinal);
        assert!(rest
            .iter()
            .zip(&all[k..])
            .all(|(a, b)| a.id == b.id && a.source == b.source));
    }
    // Past the end of a file: the next file starts.
    let rest: Vec<_> = scan(files.clone(), &options)
        .resume_at(Ordinal {
            file: 1,
            record: 99,
        })
        .collect();
    assert_eq!(rest[0].source.ordinal, Ordinal { file: 2, record: 0 });
    assert_eq!(
        scan(files, &options)
            .resume_at(Ordinal { file: 9, record: 0 })
            .count(),
        0
    );
}

/// `-` reads stdin: this test runs itself again with a pipe as stdin.
#[test]
fn stdin() {
    if let Ok(format) = std::env::var("UNSPIN_IO_STDIN_CHILD") {
        let mut options = InputOptions::default();
        options.format = (!format.is_empty()).then(|| format.parse().unwrap());
        for r in records(Path::new("-"), &options) {
            // On a line of its own: the test harness wrote "test stdin ... " before it.
            println!(
                "\n<{}|{}|{:?}>",
                r.id,
                r.source,
                r.body.map_err(|e| e.to_string())
            );
        }
        return;
    }
    let table: &[(&str, Vec<u8>, &[&str])] = &[
        (
            "",
            b"plain text\non stdin".to_vec(),
            &["<-|-:1 (record 0)|Ok(\"plain text\\non stdin\")>"],
        ),
        (
            "jsonl",
            b"{\"text\": \"a\"}\n[]\n".to_vec(),
            &[
                "<-:1|-:1 (record 0)|Ok(\"a\")>",
                "<-:2|-:2 (record 1)|Err(\"json line is not an object\")>",
            ],
        ),
        (
            "jsonl",
            gzip(b"{\"id\": \"z\", \"text\": \"zipped\"}\n"),
            &["<z|-:1 (record 0)|Ok(\"zipped\")>"],
        ),
        (
            "pdf",
            b"%PDF-1.4".to_vec(),
            &["<-|-@0 (record 0)|Err(\"pdf cannot be read from a stream\")>"],
        ),
    ];
    for (format, input, want) in table {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "stdin", "--nocapture", "--test-threads=1"])
            .env("UNSPIN_IO_STDIN_CHILD", format)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let out = String::from_utf8(out.stdout).unwrap();
        let got: Vec<&str> = out.lines().filter(|l| l.starts_with('<')).collect();
        assert_eq!(got, *want, "format {format:?}");
    }
}

/// A scan can move to a worker thread, and records and errors can be sent between threads.
#[test]
fn streams_and_records_are_send() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<unspin_io::Records>();
    send::<unspin_io::Scan>();
    send::<unspin_io::Record>();
    sync::<unspin_io::RecordError>();
    sync::<unspin_io::Error>();
}
