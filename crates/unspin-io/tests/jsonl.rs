//! JSONL: a table of inputs, each read plain, gzipped and gzipped a member per line.

mod common;

use common::*;
use unspin_io::{records_from_reader, Format, InputOptions, RecordError};

type Want = Vec<(&'static str, Result<&'static str, &'static str>)>;

struct Case {
    name: &'static str,
    lines: Vec<&'static [u8]>,
    options: fn(&mut InputOptions),
    want: Want,
}

fn case(name: &'static str, lines: Vec<&'static [u8]>, want: Want) -> Case {
    Case {
        name,
        lines,
        options: |_| {},
        want,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "ids: string, number, missing, null",
            vec![
                b"{\"id\": \"doc-1\", \"text\": \"One.\"}\n",
                b"{\"id\": 42, \"text\": \"Two.\"}\n",
                b"{\"text\": \"Three.\"}\n",
                b"{\"id\": null, \"text\": \"Four.\", \"extra\": [1, {\"a\": []}]}\n",
                b"{\"id\": 1.5, \"text\": \"Five.\"}\n",
            ],
            vec![
                ("doc-1", Ok("One.")),
                ("42", Ok("Two.")),
                ("in:3", Ok("Three.")),
                ("in:4", Ok("Four.")),
                ("1.5", Ok("Five.")),
            ],
        ),
        case(
            "escapes are decoded",
            vec![b"{\"text\": \"caf\\u00e9 \\\"q\\\"\\n\\ud83d\\ude00 \\/\"}\n"],
            vec![("in:1", Ok("café \"q\"\n😀 /"))],
        ),
        case(
            "blank lines are no records, crlf, no final newline",
            vec![
                b"\n",
                b"  \t\r\n",
                b"{\"text\": \"a\"}\r\n",
                b"\n",
                b"{\"text\": \"b\"}",
            ],
            vec![("in:3", Ok("a")), ("in:5", Ok("b"))],
        ),
        case(
            "utf-8 bom on the first line",
            vec![b"\xef\xbb\xbf{\"text\": \"a\"}\n"],
            vec![("in:1", Ok("a"))],
        ),
        case(
            "invalid json, then on",
            vec![
                b"{\"text\": \"a\"}\n",
                b"{\"text\": \"b\"\n",
                b"not json at all\n",
                b"{\"text\": \"c\"}\n",
            ],
            vec![
                ("in:1", Ok("a")),
                ("in:2", Err("invalid json")),
                ("in:3", Err("invalid json")),
                ("in:4", Ok("c")),
            ],
        ),
        case(
            "trailing characters after the object",
            vec![
                b"{\"text\": \"a\"} {\"text\": \"b\"}\n",
                b"{\"text\": \"c\"} \n",
            ],
            vec![("in:1", Err("invalid json")), ("in:2", Ok("c"))],
        ),
        case(
            "field missing or not a string",
            vec![
                b"{\"id\": \"m\", \"body\": \"x\"}\n",
                b"{\"id\": \"n\", \"text\": null}\n",
                b"{\"text\": 3}\n",
                b"{\"text\": true}\n",
                b"{\"text\": [\"a\"]}\n",
                b"{\"text\": {\"a\": \"b\"}}\n",
            ],
            vec![
                ("m", Err("field `text` is missing")),
                ("n", Err("field `text` is null, not a string")),
                ("in:3", Err("field `text` is a number, not a string")),
                ("in:4", Err("field `text` is a boolean, not a string")),
                ("in:5", Err("field `text` is an array, not a string")),
                ("in:6", Err("field `text` is an object, not a string")),
            ],
        ),
        case(
            "json that is not an object",
            vec![b"[\"text\"]\n", b"\"text\"\n", b"12\n"],
            vec![
                ("in:1", Err("json line is not an object")),
                ("in:2", Err("json line is not an object")),
                ("in:3", Err("json line is not an object")),
            ],
        ),
        case(
            "invalid utf-8 and binary",
            vec![
                b"{\"text\": \"caf\xe9\"}\n",
                b"{\"text\": \"a\0b\"}\n",
                b"{\"text\": \"ok\"}\n",
            ],
            vec![
                ("in:1", Err("invalid utf-8 at byte 13")),
                ("in:2", Err("binary content (NUL byte at byte 11")),
                ("in:3", Ok("ok")),
            ],
        ),
        case(
            "duplicate field: the last wins",
            vec![b"{\"text\": \"first\", \"text\": \"last\"}\n"],
            vec![("in:1", Ok("last"))],
        ),
        Case {
            options: |o| {
                o.field = "content".into();
                o.id_field = "url".into();
            },
            ..case(
                "other field names",
                vec![
                    b"{\"url\": \"http://e.com/\", \"content\": \"c\", \"text\": \"t\"}\n",
                    b"{\"text\": \"t\"}\n",
                ],
                vec![
                    ("http://e.com/", Ok("c")),
                    ("in:2", Err("field `content` is missing")),
                ],
            )
        },
        Case {
            options: |o| o.max_record_bytes = 16,
            ..case(
                "lines over the limit",
                vec![
                    b"{\"text\": \"abc\"}\n",
                    b"{\"text\": \"abcde\"}\n",
                    b"{\"text\": \"abcd\"}\r\n",
                    b"{\"text\": \"abcdefghijklmnopqrstuvwxyz\"}\n",
                    b"                    \n",
                    b"{\"text\": \"z\"}\n",
                ],
                vec![
                    ("in:1", Ok("abc")),
                    ("in:2", Err("record longer than the limit of 16 bytes")),
                    ("in:3", Ok("abcd")),
                    ("in:4", Err("record longer than the limit of 16 bytes")),
                    ("in:5", Err("record longer than the limit of 16 bytes")),
                    ("in:6", Ok("z")),
                ],
            )
        },
        case("empty input", vec![], vec![]),
        case(
            "deep nesting is read without recursion",
            vec![
                Box::leak(
                    format!(
                        "{{\"a\": {}{}, \"text\": \"x\"}}\n",
                        "[".repeat(100_000),
                        "]".repeat(100_000)
                    )
                    .into_bytes()
                    .into_boxed_slice(),
                ),
                Box::leak(
                    format!(
                        "{{\"text\": {}{}}}\n",
                        "[".repeat(100_000),
                        "]".repeat(100_000)
                    )
                    .into_bytes()
                    .into_boxed_slice(),
                ),
                Box::leak(
                    format!("{{\"text\": \"y\", \"a\": {}}}\n", "[".repeat(100_000))
                        .into_bytes()
                        .into_boxed_slice(),
                ),
                b"{\"text\": \"after\"}\n",
            ],
            vec![
                ("in:1", Ok("x")),
                ("in:2", Err("field `text` is an array, not a string")),
                ("in:3", Err("invalid json")),
                ("in:4", Ok("after")),
            ],
        ),
    ]
}

#[test]
fn table() {
    for c in cases() {
        let mut options = InputOptions::default();
        (c.options)(&mut options);
        let parts: Vec<Vec<u8>> = c.lines.iter().map(|l| l.to_vec()).collect();
        for storage in STORAGES {
            let got = read(storage.encode(&parts), Format::Jsonl, &options);
            check(c.name, storage, &got, &c.want);
            // Lines and offsets are where the records start.
            let plain = parts.concat();
            for r in &got {
                let line = r.source.line.expect("jsonl records have a line") as usize;
                let start: usize = parts[..line - 1].iter().map(Vec::len).sum();
                assert_eq!(r.source.offset as usize, start, "case {}", c.name);
                assert!(start < plain.len());
            }
        }
    }
}

#[test]
fn resuming_gives_the_same_records() {
    for c in cases() {
        let mut options = InputOptions::default();
        (c.options)(&mut options);
        let data = c.lines.concat();
        let all: Vec<Got> = read(data.clone(), Format::Jsonl, &options)
            .iter()
            .map(compact)
            .collect();
        for n in 0..=all.len() {
            let rest: Vec<Got> = records_from_reader(
                std::io::Cursor::new(data.clone()),
                "in",
                Format::Jsonl,
                &options,
            )
            .resume_at(n as u64)
            .map(|r| compact(&r))
            .collect();
            assert_eq!(rest, all[n..], "case {}: resume at {n}", c.name);
        }
    }
}

#[test]
fn error_records_name_file_line_and_record() {
    let got = read(
        b"{\"text\": \"a\"}\n\n{\"text\": 1}\n".to_vec(),
        Format::Jsonl,
        &InputOptions::default(),
    );
    let e = &got[1];
    assert_eq!(
        format!("{}: {}", e.source, e.body.as_ref().unwrap_err()),
        "in:3 (record 1): field `text` is a number, not a string"
    );
    assert_eq!(e.source.offset, 15);
    let got = read(
        b"{\"text\": \n".to_vec(),
        Format::Jsonl,
        &InputOptions::default(),
    );
    assert_eq!(
        got[0].body.as_ref().unwrap_err().chain(),
        "invalid json: EOF while parsing a value at line 1 column 9"
    );
}

#[test]
fn truncated_gzip_keeps_the_lines_before() {
    let lines: Vec<Vec<u8>> = (0..200)
        .map(|i| {
            format!(
                "{{\"id\": {i}, \"text\": \"line {i} {}\"}}\n",
                "x".repeat(i % 50)
            )
            .into_bytes()
        })
        .collect();
    let data = gzip(&lines.concat());
    for cut in [data.len() - 1, data.len() - 8, data.len() / 2, 20] {
        let got = read(
            data[..cut].to_vec(),
            Format::Jsonl,
            &InputOptions::default(),
        );
        let (last, before) = got.split_last().unwrap();
        assert!(
            matches!(last.body, Err(RecordError::TruncatedGzip(_))),
            "cut {cut}: {:?}",
            last.body
        );
        for (i, r) in before.iter().enumerate() {
            assert_eq!(r.id, i.to_string());
            assert!(r.body.is_ok(), "cut {cut}: line {i}: {:?}", r.body);
        }
        assert!(before.len() <= 200);
        if cut >= data.len() - 8 {
            // Only the trailer is missing: every line was read.
            assert_eq!(before.len(), 200);
        }
    }
}
