//! A 100 MB single line: an error record, then the next line, without keeping the line in
//! memory. Alone in its test binary so that the process's peak memory is this test's.

use std::io::{BufWriter, Write};

use flate2::write::GzEncoder;
use flate2::Compression;
use unspin_io::{records, InputOptions, RecordError};

/// The process's peak resident memory, in bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

const LONG: usize = 100_000_000;

fn write_lines(out: impl Write) {
    let mut out = BufWriter::new(out);
    out.write_all(b"{\"text\": \"before\"}\n{\"text\": \"")
        .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let mut left = LONG;
    while left > 0 {
        let n = left.min(chunk.len());
        out.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    out.write_all(b"\"}\n{\"text\": \"after\"}\n").unwrap();
    out.flush().unwrap();
}

#[test]
fn hundred_megabyte_line() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("long.jsonl");
    write_lines(std::fs::File::create(&plain).unwrap());
    let zipped = dir.path().join("long.jsonl.gz");
    let mut gz = GzEncoder::new(std::fs::File::create(&zipped).unwrap(), Compression::fast());
    write_lines(&mut gz);
    gz.finish().unwrap();

    // A small limit: memory stays far below the line's size.
    let mut small = InputOptions::default();
    small.max_record_bytes = 1 << 20;
    let before = peak_rss();
    for path in [&plain, &zipped] {
        let got: Vec<_> = records(path, &small).collect();
        assert_eq!(got.len(), 3, "{}", path.display());
        assert_eq!(got[0].text(), Some("before"));
        assert!(matches!(
            got[1].body,
            Err(RecordError::TooLong { limit: 1_048_576 })
        ));
        assert_eq!((got[1].source.line, got[1].source.offset), (Some(2), 19));
        assert_eq!(got[2].text(), Some("after"));
        assert_eq!(got[2].source.line, Some(3));
        assert_eq!(got[2].source.offset, 19 + 10 + LONG as u64 + 3);
    }
    if let (Some(before), Some(after)) = (before, peak_rss()) {
        let grown = after.saturating_sub(before);
        assert!(
            grown < 24 << 20,
            "peak memory grew by {} MiB reading a 100 MB line",
            grown >> 20
        );
    }

    // The default limit, 64 MiB: the line is still an error record and the next line is read.
    let got: Vec<_> = records(&plain, &InputOptions::default()).collect();
    assert_eq!(got.len(), 3);
    assert!(matches!(
        got[1].body,
        Err(RecordError::TooLong { limit: 67_108_864 })
    ));
    assert_eq!(got[2].text(), Some("after"));
}
