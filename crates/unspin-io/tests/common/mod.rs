//! Fixtures and the table runner shared by the tests: WARC records written byte by byte, gzip as
//! Common Crawl writes it (one member per record), and a compact form of what a reader yields.
#![allow(dead_code)]

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use unspin_io::{records_from_reader, Format, InputOptions, Record};

/// One WARC record: the version line, the fields in order, a computed `Content-Length`, the
/// content and the blank line that ends it.
pub fn warc(fields: &[(&str, &str)], content: &[u8]) -> Vec<u8> {
    warc_with_length(fields, content, content.len())
}

/// A WARC record that declares `length` whatever its content's length.
pub fn warc_with_length(fields: &[(&str, &str)], content: &[u8], length: usize) -> Vec<u8> {
    let mut out = b"WARC/1.0\r\n".to_vec();
    for (name, value) in fields {
        write!(out, "{name}: {value}\r\n").unwrap();
    }
    write!(out, "Content-Length: {length}\r\n\r\n").unwrap();
    out.extend_from_slice(content);
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// A WET `conversion` record as Common Crawl writes it (same fields, same order).
pub fn wet(n: u32, uri: &str, text: &str) -> Vec<u8> {
    warc(
        &[
            ("WARC-Type", "conversion"),
            ("WARC-Target-URI", uri),
            ("WARC-Date", "2024-02-20T22:14:31Z"),
            (
                "WARC-Record-ID",
                &format!("<urn:uuid:00000000-0000-4000-8000-{n:012}>"),
            ),
            (
                "WARC-Refers-To",
                &format!("<urn:uuid:00000000-0000-4000-9000-{n:012}>"),
            ),
            ("WARC-Block-Digest", "sha1:S3DTWCONT2L6ORTGCY2KXEZ37LNBB7V2"),
            ("WARC-Identified-Content-Language", "eng"),
            ("Content-Type", "text/plain"),
        ],
        text.as_bytes(),
    )
}

/// The `warcinfo` record that opens a Common Crawl WET file.
pub fn wet_info() -> Vec<u8> {
    warc(
        &[
            ("WARC-Type", "warcinfo"),
            ("WARC-Date", "2024-03-02T10:00:00Z"),
            ("WARC-Filename", "CC-MAIN-20240220211055-20240221001055-00000.warc.wet.gz"),
            ("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-a000-000000000000>"),
            ("Content-Type", "application/warc-fields"),
        ],
        b"Software-Info: ia-web-commons.1.1.10-SNAPSHOT-20231213094316\r\n\
          Extracted-Date: Sat, 02 Mar 2024 10:00:00 GMT\r\n\
          robots: checked via crawler-commons 1.5-SNAPSHOT (https://github.com/crawler-commons/crawler-commons)\r\n\
          isPartOf: CC-MAIN-2024-10\r\n\
          operator: Common Crawl Admin (info@commoncrawl.org)\r\n\
          description: Wide crawl of the web for February/March 2024\r\n\
          publisher: Common Crawl\r\n",
    )
}

/// A WARC `response` record holding an HTTP response.
pub fn response(n: u32, uri: &str, http: &[u8]) -> Vec<u8> {
    warc(
        &[
            ("WARC-Type", "response"),
            ("WARC-Date", "2024-02-20T22:14:31Z"),
            ("WARC-Record-ID", &format!("<urn:uuid:r{n}>")),
            ("Content-Type", "application/http; msgtype=response"),
            ("WARC-Target-URI", uri),
        ],
        http,
    )
}

/// An HTTP response with a `Content-Type` (if any) and a body.
pub fn http(content_type: Option<&str>, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nServer: test\r\n".to_vec();
    if let Some(t) = content_type {
        write!(out, "Content-Type: {t}\r\n").unwrap();
    }
    out.extend_from_slice(extra.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Gzip in one member.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Gzip with one member per part, as Common Crawl writes a WARC file.
pub fn gzip_members(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.iter().flat_map(|p| gzip(p)).collect()
}

/// How a table's input is stored.
#[derive(Debug, Clone, Copy)]
pub enum Storage {
    Plain,
    Gzip,
    GzipMembers,
}

pub const STORAGES: [Storage; 3] = [Storage::Plain, Storage::Gzip, Storage::GzipMembers];

impl Storage {
    pub fn encode(self, parts: &[Vec<u8>]) -> Vec<u8> {
        match self {
            Storage::Plain => parts.concat(),
            Storage::Gzip => gzip(&parts.concat()),
            Storage::GzipMembers => gzip_members(parts),
        }
    }
}

/// A record as the tables write it: the id, and the text or the error message.
pub type Got = (String, Result<String, String>);

pub fn compact(r: &Record) -> Got {
    (
        r.id.clone(),
        r.body
            .as_ref()
            .map(String::clone)
            .map_err(|e| e.to_string()),
    )
}

/// Reads bytes in a format, named `name`.
pub fn read(data: Vec<u8>, format: Format, options: &InputOptions) -> Vec<Record> {
    records_from_reader(std::io::Cursor::new(data), "in", format, options).collect()
}

/// Checks records against a table row's expectations: ids equal, texts equal, error messages
/// start with the expected text.
pub fn check(case: &str, storage: Storage, got: &[Record], want: &[(&str, Result<&str, &str>)]) {
    let got: Vec<Got> = got.iter().map(compact).collect();
    let same = got.len() == want.len()
        && got.iter().zip(want).all(|((gid, gbody), (wid, wbody))| {
            gid == wid
                && match (gbody, wbody) {
                    (Ok(g), Ok(w)) => g == w,
                    (Err(g), Err(w)) => g.starts_with(w),
                    _ => false,
                }
        });
    assert!(
        same,
        "case {case} ({storage:?}):\n got  {got:#?}\n want {want:#?}"
    );
}
