//! `unspin_io`'s WARC reader on any bytes: it ends, every record has a consecutive ordinal and a
//! growing offset, a readable record's offset points at its `WARC/1.` line, resuming after k
//! records gives the records after the k-th, and a gzipped copy gives the same records. The
//! first byte picks the record size limit; the rest, as UTF-8, also goes to `html_to_text`.
#![no_main]

use std::io::{Cursor, Write};

use libfuzzer_sys::fuzz_target;
use unspin_io::{html_to_text, records_from_reader, Format, InputOptions, Record, RecordError};

type Compact = (String, u64, u64, Result<String, String>);

fn compact(r: &Record) -> Compact {
    (
        r.id.clone(),
        r.source.ordinal.record,
        r.source.offset,
        r.body.as_ref().map(String::clone).map_err(|e| e.chain()),
    )
}

fn read(data: Vec<u8>, options: &InputOptions, resume: u64) -> Vec<Compact> {
    records_from_reader(Cursor::new(data), "in", Format::Warc, options)
        .resume_at(resume)
        .map(|r| compact(&r))
        .collect()
}

fuzz_target!(|input: &[u8]| {
    let Some((&pick, data)) = input.split_first() else { return };
    let mut options = InputOptions::default();
    options.max_record_bytes = [16, 256, 4096, 1 << 20][usize::from(pick % 4)];

    let all: Vec<Record> =
        records_from_reader(Cursor::new(data.to_vec()), "in", Format::Warc, &options).collect();
    let gz = data.starts_with(&[0x1f, 0x8b]);
    let mut last = None;
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.source.ordinal.record, i as u64);
        assert!(last.map_or(true, |l| r.source.offset > l), "offsets must grow");
        last = Some(r.source.offset);
        if !gz {
            assert!(r.source.offset <= data.len() as u64);
            if r.body.is_ok() {
                assert!(data[r.source.offset as usize..].starts_with(b"WARC/1."));
            }
        }
        if let Err(RecordError::MalformedWarc { reason }) = &r.body {
            assert!(!reason.is_empty());
        }
    }
    let all: Vec<Compact> = all.iter().map(compact).collect();

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

    if let Ok(s) = std::str::from_utf8(data) {
        let text = html_to_text(s);
        // Whitespace is collapsed: none at either end, never two in a row.
        assert!(!text.starts_with(char::is_whitespace) && !text.ends_with(char::is_whitespace));
        let mut prev_space = false;
        for c in text.chars() {
            let space = c.is_whitespace();
            assert!(!(space && prev_space), "two whitespace characters in a row: {text:?}");
            prev_space = space;
        }
    }
});
