//! WARC and WET: `response` records (an HTTP response; its HTML made plain text) and
//! `conversion` records (WET's plain text) are documents; other record types are passed over.
//!
//! A record is a `WARC/1.x` line, header lines up to a blank line, `Content-Length` bytes of
//! content, and a blank line (`\r\n\r\n`). Anything else is reported and skipped: the reader
//! looks for the next line that starts with `WARC/1.`, inside the bad record's content too when
//! its `Content-Length` was wrong.

use std::io::{self, BufRead, Read};

use encoding_rs::Encoding;
use flate2::read::{GzDecoder, ZlibDecoder};

use crate::html::html_to_text;
use crate::input::{check_text, Input};
use crate::records::{Draft, Reader};
use crate::{Meta, RecordError};

/// The longest header line kept (a long URI fits).
const HEADER_LINE: usize = 64 << 10;
/// The largest WARC header, all lines together.
const HEADER_TOTAL: usize = 1 << 20;

pub(crate) struct WarcReader {
    input: Input,
    name: String,
    limit: usize,
    line: Vec<u8>,
    /// A `WARC/1.` line found while skipping a bad record, with its offset: the next record's
    /// first line.
    held: Option<(u64, Vec<u8>)>,
    /// A read error met while skipping a bad record: reported after that record.
    pending: Option<Draft>,
    done: bool,
    skipped: u64,
}

/// A record's header fields, names lowercased.
struct Header {
    fields: Vec<(String, String)>,
}

impl Header {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl WarcReader {
    pub(crate) fn new(input: Input, name: String, limit: usize) -> WarcReader {
        WarcReader {
            input,
            name,
            limit,
            line: Vec::new(),
            held: None,
            pending: None,
            done: false,
            skipped: 0,
        }
    }

    fn draft(
        &self,
        offset: u64,
        id: Option<String>,
        meta: Meta,
        body: Result<String, RecordError>,
    ) -> Draft {
        Draft {
            id: id.unwrap_or_else(|| format!("{}@{}", self.name, offset)),
            line: None,
            offset,
            meta,
            body,
        }
    }

    /// A read error ends the stream: the record being read becomes an error record.
    fn fail(&mut self, offset: u64, id: Option<String>, meta: Meta, e: io::Error) -> Draft {
        self.done = true;
        let error = self.input.error(e);
        self.draft(offset, id, meta, Err(error))
    }

    /// The error record for a malformed record at `offset`; the reader then skips to the next
    /// `WARC/1.` line.
    fn malformed(&mut self, offset: u64, reason: impl Into<String>) -> Draft {
        let draft = self.draft(
            offset,
            None,
            Meta::default(),
            Err(RecordError::MalformedWarc {
                reason: reason.into(),
            }),
        );
        self.resync();
        draft
    }

    /// Reads lines up to one that starts with `WARC/1.` and holds it for the next record.
    fn resync(&mut self) {
        loop {
            let offset = self.input.offset();
            match self.input.read_line(&mut self.line, HEADER_LINE) {
                Ok(Some(_)) if self.line.starts_with(b"WARC/1.") => {
                    self.held = Some((offset, std::mem::take(&mut self.line)));
                    return;
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    self.done = true;
                    return;
                }
                Err(e) => {
                    let d = self.fail(offset, None, Meta::default(), e);
                    self.pending = Some(d);
                    return;
                }
            }
        }
    }

    /// Reads the bytes after a content block: `Ok(true)` if they are the blank line that ends a
    /// record (or the end of the stream), `Ok(false)` otherwise, with what was read put back.
    fn trailer(&mut self) -> io::Result<bool> {
        let mut seen = Vec::with_capacity(4);
        let mut newlines = 0;
        while newlines < 2 {
            let buf = self.input.fill_buf()?;
            let Some(&c) = buf.first() else {
                return Ok(true);
            };
            match c {
                b'\n' => newlines += 1,
                b'\r' if seen.last() != Some(&b'\r') => {}
                _ => {
                    self.input.unread(&seen);
                    return Ok(false);
                }
            }
            seen.push(c);
            self.input.consume(1);
        }
        Ok(true)
    }

    /// The next record; `None` at the end, or after passing over a record that is no document
    /// (then `skipped` has grown).
    fn next_record(&mut self, skip: bool) -> Option<Draft> {
        if let Some(d) = self.pending.take() {
            return Some(d);
        }
        if self.done {
            return None;
        }
        // The version line, after any blank lines.
        let start = match self.held.take() {
            Some((offset, line)) => {
                self.line = line;
                offset
            }
            None => loop {
                let offset = self.input.offset();
                match self.input.read_line(&mut self.line, HEADER_LINE) {
                    Ok(Some(l))
                        if !l.overlong && self.line.iter().all(|c| c.is_ascii_whitespace()) => {}
                    Ok(Some(_)) => break offset,
                    Ok(None) => {
                        self.done = true;
                        return None;
                    }
                    Err(e) => return Some(self.fail(offset, None, Meta::default(), e)),
                }
            },
        };
        if !self.line.starts_with(b"WARC/1.") {
            return Some(self.malformed(start, "no WARC/1.x version line"));
        }

        // The header.
        let mut header = Header { fields: Vec::new() };
        let mut total = 0;
        loop {
            let offset = self.input.offset();
            let line = match self.input.read_line(&mut self.line, HEADER_LINE) {
                Ok(Some(l)) => l,
                Ok(None) => {
                    self.done = true;
                    let error = RecordError::MalformedWarc {
                        reason: "header ends early".into(),
                    };
                    return Some(self.draft(start, None, Meta::default(), Err(error)));
                }
                Err(e) => return Some(self.fail(start, None, Meta::default(), e)),
            };
            if self.line.is_empty() && !line.overlong {
                break;
            }
            total += self.line.len();
            if line.overlong || total > HEADER_TOTAL {
                return Some(self.malformed(start, "header too long"));
            }
            if self.line.starts_with(b"WARC/1.") {
                // A new record starts before this one's header ended.
                let draft = self.draft(
                    start,
                    None,
                    Meta::default(),
                    Err(RecordError::MalformedWarc {
                        reason: "header does not end".into(),
                    }),
                );
                self.held = Some((offset, std::mem::take(&mut self.line)));
                return Some(draft);
            }
            // Header values are UTF-8 by the standard; a stray byte in a URI should not cost the
            // document, so they are read leniently.
            if matches!(self.line[0], b' ' | b'\t') {
                match header.fields.last_mut() {
                    Some((_, value)) => {
                        value.push(' ');
                        value.push_str(String::from_utf8_lossy(&self.line).trim());
                    }
                    None => {
                        return Some(self.malformed(start, "continuation line before any field"))
                    }
                }
                continue;
            }
            let Some(colon) = memchr::memchr(b':', &self.line) else {
                return Some(self.malformed(start, "header line without a colon"));
            };
            let name = String::from_utf8_lossy(&self.line[..colon])
                .trim()
                .to_ascii_lowercase();
            let value = String::from_utf8_lossy(&self.line[colon + 1..])
                .trim()
                .to_string();
            header.fields.push((name, value));
        }

        let id = header.get("warc-record-id").map(str::to_string);
        let Some(length) = header.get("content-length") else {
            return Some(self.malformed(start, "no Content-Length"));
        };
        let Some(length) = parse_length(length) else {
            let reason = format!("bad Content-Length {length:?}");
            return Some(self.malformed(start, reason));
        };
        let Some(kind) = header.get("warc-type").map(str::to_ascii_lowercase) else {
            return Some(self.malformed(start, "no WARC-Type"));
        };
        let meta = Meta {
            url: header.get("warc-target-uri").map(str::to_string),
            date: header.get("warc-date").map(str::to_string),
            warc_type: Some(kind.clone()),
            http_status: None,
        };
        let document = kind == "response" || kind == "conversion";

        // The content, kept only if it is small enough to be a record.
        let content = if length > self.limit as u64 {
            match self.input.skip(length) {
                Ok(n) if n < length => {
                    self.done = true;
                    let error = RecordError::WarcTruncated {
                        expected: length,
                        found: n,
                    };
                    return Some(self.draft(start, id, meta, Err(error)));
                }
                Ok(_) => None,
                Err(e) => return Some(self.fail(start, id, meta, e)),
            }
        } else {
            let mut content = Vec::with_capacity(length.min(1 << 20) as usize);
            if let Err(e) = (&mut self.input).take(length).read_to_end(&mut content) {
                return Some(self.fail(start, id, meta, e));
            }
            if (content.len() as u64) < length {
                // The content runs past the end: the file is cut short, or the length is wrong
                // and a later record may start inside what was read.
                let found = content.len() as u64;
                self.input.unread(&content);
                self.resync();
                let error = RecordError::WarcTruncated {
                    expected: length,
                    found,
                };
                return Some(self.draft(start, id, meta, Err(error)));
            }
            Some(content)
        };
        match self.trailer() {
            Ok(true) => {}
            Ok(false) => {
                if let Some(content) = &content {
                    self.input.unread(content);
                }
                self.resync();
                return Some(self.draft(start, id, meta, Err(RecordError::WarcLength { length })));
            }
            Err(e) => return Some(self.fail(start, id, meta, e)),
        }

        if !document {
            // `next_draft` reads on.
            self.skipped += 1;
            return None;
        }
        let Some(content) = content else {
            let error = RecordError::TooLong { limit: self.limit };
            return Some(self.draft(start, id, meta, Err(error)));
        };
        if skip {
            return Some(self.draft(start, id, meta, Ok(String::new())));
        }
        let mut meta = meta;
        let body = if kind == "conversion" {
            decode_text(content, header.get("content-type"), false, self.limit)
        } else {
            match header.get("content-type") {
                Some(t) if !t.to_ascii_lowercase().starts_with("application/http") => {
                    decode_text(content, Some(t), false, self.limit)
                }
                _ => http_body(content, &mut meta, self.limit),
            }
        };
        Some(self.draft(start, id, meta, body))
    }
}

impl Reader for WarcReader {
    fn next_draft(&mut self, skip: bool) -> Option<Draft> {
        // Records that are not documents are passed over in a loop, not by recursion, so that a
        // long run of them does not grow the stack.
        loop {
            let skipped = self.skipped;
            match self.next_record(skip) {
                Some(d) => return Some(d),
                None if self.skipped > skipped && !self.done => {}
                None => return None,
            }
        }
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }
}

fn parse_length(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The text of an HTTP response's body.
fn http_body(content: Vec<u8>, meta: &mut Meta, limit: usize) -> Result<String, RecordError> {
    let http = |reason: &str| RecordError::Http {
        reason: reason.to_string(),
    };
    if !content.starts_with(b"HTTP/") {
        return Err(http("no HTTP/ status line"));
    }
    let mut fields = Vec::new();
    let mut pos = 0;
    let mut first = true;
    let body_start = loop {
        let Some(nl) = memchr::memchr(b'\n', &content[pos..]) else {
            return Err(http("header does not end"));
        };
        let line = &content[pos..pos + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos += nl + 1;
        if first {
            first = false;
            let status = line
                .split(|&c| c == b' ')
                .nth(1)
                .and_then(|s| std::str::from_utf8(s).ok());
            meta.http_status = status.and_then(|s| s.parse().ok());
            continue;
        }
        if line.is_empty() {
            break pos;
        }
        if let Some(colon) = memchr::memchr(b':', line) {
            let name = String::from_utf8_lossy(&line[..colon])
                .trim()
                .to_ascii_lowercase();
            let value = String::from_utf8_lossy(&line[colon + 1..])
                .trim()
                .to_string();
            fields.push((name, value));
        }
    };
    let header = Header { fields };
    let mut body = content;
    body.drain(..body_start);
    if let Some(te) = header.get("transfer-encoding") {
        match te.to_ascii_lowercase().as_str() {
            "chunked" => body = dechunk(&body).ok_or_else(|| http("bad chunked encoding"))?,
            "identity" | "" => {}
            other => {
                return Err(RecordError::UnsupportedEncoding {
                    encoding: other.to_string(),
                })
            }
        }
    }
    if let Some(ce) = header.get("content-encoding") {
        let ce = ce.to_ascii_lowercase();
        body = match ce.as_str() {
            "identity" | "" => body,
            "gzip" | "x-gzip" => inflate(GzDecoder::new(&body[..]), limit, &ce)?,
            "deflate" => inflate(ZlibDecoder::new(&body[..]), limit, &ce)?,
            _ => return Err(RecordError::UnsupportedEncoding { encoding: ce }),
        };
    }
    decode_text(body, header.get("content-type"), true, limit)
}

/// Decompresses a body, at most `limit` bytes of it.
fn inflate<R: Read>(r: R, limit: usize, encoding: &str) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::new();
    match r.take(limit as u64 + 1).read_to_end(&mut out) {
        Ok(_) if out.len() > limit => Err(RecordError::TooLong { limit }),
        Ok(_) => Ok(out),
        Err(_) => Err(RecordError::Http {
            reason: format!("bad {encoding} content"),
        }),
    }
}

/// Undoes `Transfer-Encoding: chunked`; `None` if the chunks are malformed.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    loop {
        let nl = memchr::memchr(b'\n', b)?;
        let size_line = std::str::from_utf8(&b[..nl]).ok()?;
        let size = size_line.split(';').next()?.trim();
        let size = usize::from_str_radix(size, 16).ok()?;
        b = &b[nl + 1..];
        if size == 0 {
            return Some(out);
        }
        if size > b.len() {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size..];
        b = b.strip_prefix(b"\r\n").or_else(|| b.strip_prefix(b"\n"))?;
    }
}

/// Text from a body with a media type: HTML is made plain text, plain text is kept, anything
/// else is not text. The charset is the BOM's, else the declared one (for HTML, also a `<meta>`
/// one), else UTF-8, strictly.
fn decode_text(
    body: Vec<u8>,
    content_type: Option<&str>,
    sniff: bool,
    limit: usize,
) -> Result<String, RecordError> {
    let (mime, charset) = match content_type {
        Some(t) => parse_content_type(t),
        None => (String::new(), None),
    };
    let html = match mime.as_str() {
        "text/html" | "application/xhtml+xml" => true,
        "text/plain" => false,
        "" if sniff => looks_like_html(&body),
        "" => false,
        _ => return Err(RecordError::NotText { content_type: mime }),
    };
    let charset = charset.or_else(|| if html { meta_charset(&body) } else { None });
    let text = decode(body, charset.as_deref())?;
    if text.len() > limit {
        return Err(RecordError::TooLong { limit });
    }
    Ok(if html { html_to_text(&text) } else { text })
}

/// The media type, lowercased, and the charset parameter of a `Content-Type` value.
fn parse_content_type(t: &str) -> (String, Option<String>) {
    let mut parts = t.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']).to_string())
    });
    (mime, charset.filter(|c| !c.is_empty()))
}

fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.contains("<html")
        || head.contains("<!doctype html")
        || head.contains("<body")
        || head.contains("<p>")
}

/// The charset of a `<meta charset=…>` or `<meta http-equiv content="…; charset=…">` in the
/// first 4 KiB.
fn meta_charset(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(4096)];
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(k) = memchr::memmem::find(&lower[from..], b"<meta") {
        let start = from + k + 5;
        let end = memchr::memchr(b'>', &lower[start..]).map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = memchr::memmem::find(tag, b"charset") {
            let rest = &tag[c + 7..];
            let rest = rest
                .iter()
                .position(|&b| b != b' ')
                .map_or(&rest[rest.len()..], |p| &rest[p..]);
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest: Vec<u8> = rest
                    .iter()
                    .copied()
                    .skip_while(|&b| matches!(b, b' ' | b'"' | b'\''))
                    .take_while(|&b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')
                    })
                    .collect();
                if !rest.is_empty() {
                    return String::from_utf8(rest).ok();
                }
            }
        }
        from = end;
    }
    None
}

/// Decodes bytes: the BOM's encoding, else `charset`, else UTF-8; never with replacement
/// characters.
fn decode(body: Vec<u8>, charset: Option<&str>) -> Result<String, RecordError> {
    let (encoding, bom) = match Encoding::for_bom(&body) {
        Some((e, n)) => (e, n),
        None => match charset {
            Some(label) => match Encoding::for_label(label.as_bytes()) {
                Some(e) => (e, 0),
                None => {
                    return Err(RecordError::UnknownCharset {
                        label: label.to_string(),
                    })
                }
            },
            None => (encoding_rs::UTF_8, 0),
        },
    };
    let bytes = &body[bom..];
    if encoding.is_ascii_compatible() {
        if let Some(at) = memchr::memchr(0, bytes) {
            return Err(RecordError::Binary { at });
        }
    }
    if encoding == encoding_rs::UTF_8 {
        check_text(bytes)?;
        let mut body = body;
        body.drain(..bom);
        return Ok(String::from_utf8(body).expect("checked"));
    }
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|t| t.into_owned())
        .ok_or(RecordError::Undecodable {
            charset: encoding.name(),
        })
}
