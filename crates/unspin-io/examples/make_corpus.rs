//! Writes the inputs of the reading benchmark from the Brown corpus (`scripts/fetch-sources.sh`
//! puts it in `target/sources/brown`): a WET file as Common Crawl writes it (a `warcinfo`
//! record, then one `conversion` record per document, each record its own gzip member) and a
//! JSONL file of the same documents, and a WARC file of the same documents as HTTP responses
//! (HTML with a script, a style sheet and entities); each about `BYTES` of text, the corpus
//! repeated as needed.
//!
//! ```sh
//! cargo run --release -p unspin-io --example make_corpus -- target/sources/brown target/bench-io/brown 1000000000
//! ```
//! writes `target/bench-io/brown.warc.wet.gz`, `target/bench-io/brown.jsonl` and
//! `target/bench-io/brown.warc.gz`.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use flate2::write::GzEncoder;
use flate2::Compression;

/// A Brown file's text: `word/tag` tokens made words again, a paragraph a line.
fn untag(raw: &str) -> String {
    let mut paragraphs = Vec::new();
    for block in raw.split("\n\n") {
        let words: Vec<&str> = block
            .split_whitespace()
            .map(|t| t.rsplit_once('/').map_or(t, |(w, _)| w))
            .collect();
        if !words.is_empty() {
            paragraphs.push(words.join(" "));
        }
    }
    paragraphs.join("\n")
}

/// A document as an HTML page: a paragraph per line, `&`, `<`, `>` and quotes as entities.
fn html(title: &str, text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\n\
         <style>body {{ font-family: serif; }} p {{ margin: 0 }}</style>\n\
         <script>window.dataLayer = []; if (a < b && c > d) {{ track('<p>'); }}</script>\n\
         </head><body><nav><a href=\"/\">Home</a> | <a href=\"/news\">News</a></nav>\n<article>\n",
        escape(title)
    );
    for paragraph in text.lines() {
        page.push_str("<p>");
        page.push_str(&escape(paragraph));
        page.push_str("</p>\n");
    }
    page.push_str("</article><!-- generated --></body></html>\n");
    page
}

fn member(out: &mut impl Write, record: &[u8]) -> std::io::Result<()> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(record)?;
    out.write_all(&gz.finish()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [brown, prefix, bytes] = args.as_slice() else {
        return Err("usage: make_corpus BROWN_DIR OUT_PREFIX BYTES".into());
    };
    let target: u64 = bytes.parse()?;
    let mut names: Vec<PathBuf> = std::fs::read_dir(brown)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.len() == 4)
        })
        .collect();
    names.sort();
    let docs: Vec<(String, String)> = names
        .iter()
        .map(|p| {
            Ok((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                untag(&std::fs::read_to_string(p)?),
            ))
        })
        .collect::<std::io::Result<_>>()?;
    if docs.is_empty() {
        return Err(format!("no Brown files in {brown}: run scripts/fetch-sources.sh").into());
    }
    let prefix = PathBuf::from(prefix);
    if let Some(dir) = prefix.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut wet = BufWriter::new(File::create(prefix.with_extension("warc.wet.gz"))?);
    let mut jsonl = BufWriter::new(File::create(prefix.with_extension("jsonl"))?);
    let mut warc = BufWriter::new(File::create(prefix.with_extension("warc.gz"))?);
    let info = b"Software-Info: unspin-io make_corpus\r\nisPartOf: brown-repeated\r\n";
    let mut head = format!(
        "WARC/1.0\r\nWARC-Type: warcinfo\r\nWARC-Date: 2024-03-02T10:00:00Z\r\n\
         WARC-Record-ID: <urn:uuid:00000000-0000-4000-a000-000000000000>\r\n\
         Content-Type: application/warc-fields\r\nContent-Length: {}\r\n\r\n",
        info.len()
    )
    .into_bytes();
    head.extend_from_slice(info);
    head.extend_from_slice(b"\r\n\r\n");
    member(&mut wet, &head)?;
    let (mut written, mut n) = (0u64, 0u64);
    while written < target {
        let (name, text) = &docs[(n % docs.len() as u64) as usize];
        let uri = format!("http://brown.example/{name}/{n}");
        let mut record = format!(
            "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: {uri}\r\n\
             WARC-Date: 2024-02-20T22:14:31Z\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{n:012}>\r\n\
             WARC-Refers-To: <urn:uuid:00000000-0000-4000-9000-{n:012}>\r\n\
             WARC-Block-Digest: sha1:S3DTWCONT2L6ORTGCY2KXEZ37LNBB7V2\r\n\
             WARC-Identified-Content-Language: eng\r\nContent-Type: text/plain\r\n\
             Content-Length: {}\r\n\r\n",
            text.len()
        )
        .into_bytes();
        record.extend_from_slice(text.as_bytes());
        record.extend_from_slice(b"\r\n\r\n");
        member(&mut wet, &record)?;
        let page = html(name, text);
        let http = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: {}\r\n\r\n{page}",
            page.len()
        );
        let mut record = format!(
            "WARC/1.0\r\nWARC-Type: response\r\nWARC-Date: 2024-02-20T22:14:31Z\r\n\
             WARC-Record-ID: <urn:uuid:00000000-0000-4000-7000-{n:012}>\r\n\
             Content-Type: application/http; msgtype=response\r\nWARC-Target-URI: {uri}\r\n\
             Content-Length: {}\r\n\r\n",
            http.len()
        )
        .into_bytes();
        record.extend_from_slice(http.as_bytes());
        record.extend_from_slice(b"\r\n\r\n");
        member(&mut warc, &record)?;
        serde_json::to_writer(
            &mut jsonl,
            &serde_json::json!({"id": n.to_string(), "url": uri, "text": text}),
        )?;
        jsonl.write_all(b"\n")?;
        written += text.len() as u64;
        n += 1;
    }
    wet.flush()?;
    warc.flush()?;
    jsonl.flush()?;
    println!("{n} documents, {written} bytes of text");
    Ok(())
}
