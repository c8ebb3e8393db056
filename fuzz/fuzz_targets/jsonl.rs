//! `unspin_io`'s JSONL reader on any bytes, against an oracle built on `serde_json::Value`: one
//! record per non-blank or over-long line, at that line, with the `text` string and the `id`
//! (string or number) that `Value` finds, or an error when it finds none. Resuming after k
//! records gives the records after the k-th, and a gzipped copy gives the same records. The
//! first byte picks the record size limit.
#![no_main]

use std::io::{Cursor, Write};

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use unspin_io::{records_from_reader, Format, InputOptions, Record};

type Compact = (String, Option<u64>, u64, Result<String, String>);

fn compact(r: &Record) -> Compact {
    (
        r.id.clone(),
        r.source.line,
        r.source.offset,
        r.body.as_ref().map(String::clone).map_err(|e| e.chain()),
    )
}

fn read(data: Vec<u8>, options: &InputOptions, resume: u64) -> Vec<Compact> {
    records_from_reader(Cursor::new(data), "in", Format::Jsonl, options)
        .resume_at(resume)
        .map(|r| compact(&r))
        .collect()
}

/// What the oracle expects of a line: `None` no record; else the id and the text, `None` for an
/// error (whose message is not predicted), or no prediction at all for JSON nested deeper than
/// `Value` reads.
enum Expect {
    Record { id: String, text: Option<String> },
    Unknown,
}

fn oracle(line: &[u8], number: usize, limit: usize) -> Option<Expect> {
    let fallback = format!("in:{number}");
    if line.len() > limit {
        return Some(Expect::Record { id: fallback, text: None });
    }
    if line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
        return None;
    }
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) if e.to_string().contains("recursion limit") => return Some(Expect::Unknown),
        Err(_) => return Some(Expect::Record { id: fallback, text: None }),
    };
    let Value::Object(map) = value else {
        return Some(Expect::Record { id: fallback, text: None });
    };
    let id = match map.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => fallback,
    };
    let text = match map.get("text") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    Some(Expect::Record { id, text })
}

fuzz_target!(|input: &[u8]| {
    let Some((&pick, data)) = input.split_first() else { return };
    let mut options = InputOptions::default();
    options.max_record_bytes = [8, 64, 1024, 1 << 20][usize::from(pick % 4)];
    let limit = options.max_record_bytes;
    let gz = data.starts_with(&[0x1f, 0x8b]);

    let all: Vec<Compact> = read(data.to_vec(), &options, 0);

    if !gz {
        let mut expected = Vec::new();
        let mut offset = 0;
        for (i, raw) in data.split_inclusive(|&c| c == b'\n').enumerate() {
            let mut line = raw.strip_suffix(b"\n").unwrap_or(raw);
            if raw.ends_with(b"\n") {
                line = line.strip_suffix(b"\r").unwrap_or(line);
            }
            if i == 0 {
                line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
            }
            if let Some(e) = oracle(line, i + 1, limit) {
                expected.push((e, i as u64 + 1, offset));
            }
            offset += raw.len() as u64;
        }
        assert_eq!(all.len(), expected.len(), "record count");
        for (got, (want, line, offset)) in all.iter().zip(&expected) {
            assert_eq!((got.1, got.2), (Some(*line), *offset), "position");
            if let Expect::Record { id, text } = want {
                match text {
                    Some(t) => assert_eq!(got.3.as_ref(), Ok(t), "line {line}"),
                    None => assert!(got.3.is_err(), "line {line}: {:?}", got.3),
                }
                // An error record whose object had an id keeps it; the fallback otherwise.
                if text.is_some() || got.0 != format!("in:{line}") {
                    assert_eq!(&got.0, id, "line {line}");
                }
            }
        }
    }

    for k in [1, all.len() / 2, all.len()] {
        if k <= all.len() {
            assert_eq!(read(data.to_vec(), &options, k as u64), all[k..], "resume at {k}");
        }
    }

    if !gz {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        assert_eq!(read(e.finish().unwrap(), &options, 0), all, "gzipped");
    }
});
