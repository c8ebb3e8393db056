//! WARC and WET: a table of inputs, each read plain, gzipped in one member and gzipped a member
//! per record (as Common Crawl writes), which must all give the same records.

mod common;

use common::*;
use unspin_io::{records_from_reader, Format, InputOptions, RecordError};

struct Case {
    name: &'static str,
    parts: Vec<Vec<u8>>,
    limit: Option<usize>,
    want: Vec<(&'static str, Result<&'static str, &'static str>)>,
    /// Records passed over as not documents.
    skipped: u64,
}

fn case(
    name: &'static str,
    parts: Vec<Vec<u8>>,
    want: Vec<(&'static str, Result<&'static str, &'static str>)>,
) -> Case {
    Case {
        name,
        parts,
        limit: None,
        want,
        skipped: 0,
    }
}

const ARTICLE: &str = "The committee met on Tuesday.\nIt approved the budget for 2025.";

fn cases() -> Vec<Case> {
    let good = |n: u32| {
        wet(
            n,
            &format!("http://example.com/{n}"),
            &format!("Good record {n}."),
        )
    };
    let id = |n: u32| -> &'static str {
        Box::leak(format!("<urn:uuid:00000000-0000-4000-8000-{n:012}>").into_boxed_str())
    };
    let html_page = b"<!DOCTYPE html><html><head><title>News &amp; Views</title>\
        <script>var x = '<p>not text</p>';</script><style>p { color: red }</style></head>\
        <body><div class=\"nav\"><a href=\"/\">Home</a></div><p>Caf&eacute; opens,\n   says\
        &nbsp;mayor&#8217;s office.</p><!-- <p>hidden</p> --><p>Price: 5&euro; &lt; 10&euro;</p></body></html>";
    vec![
        Case {
            skipped: 1,
            ..case(
                "common crawl wet file",
                vec![wet_info(), wet(1, "http://example.com/a", ARTICLE), wet(2, "https://b.example.org/ü", "Zweite Seite: Grüße.")],
                vec![(id(1), Ok(ARTICLE)), (id(2), Ok("Zweite Seite: Grüße."))],
            )
        },
        case(
            "response with html",
            vec![response(1, "http://e.com/", &http(Some("text/html; charset=UTF-8"), "", html_page))],
            vec![("<urn:uuid:r1>", Ok("News & Views\nHome\nCafé opens, says mayor’s office.\nPrice: 5€ < 10€"))],
        ),
        case(
            "charset from http header",
            vec![response(1, "http://e.com/", &http(Some("text/html; charset=windows-1252"), "", b"<p>caf\xe9 \x93quoted\x94</p>"))],
            vec![("<urn:uuid:r1>", Ok("café “quoted”"))],
        ),
        case(
            "charset from meta tag",
            vec![response(1, "http://e.com/", &http(Some("text/html"), "", b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"></head><body>na\xefve</body></html>"))],
            vec![("<urn:uuid:r1>", Ok("naïve"))],
        ),
        case(
            "charset from meta charset, shift_jis",
            vec![response(1, "http://e.com/", &http(Some("text/html"), "", b"<meta charset=\"shift_jis\"><p>\x93\xfa\x96\x7b</p>"))],
            vec![("<urn:uuid:r1>", Ok("日本"))],
        ),
        case(
            "utf-16 with a bom",
            vec![response(1, "http://e.com/", &http(Some("text/plain"), "", b"\xff\xfeh\0i\0"))],
            vec![("<urn:uuid:r1>", Ok("hi"))],
        ),
        case(
            "invalid utf-8 without a charset",
            vec![response(1, "http://e.com/", &http(Some("text/html"), "", b"<p>caf\xe9</p>")), good(2)],
            vec![("<urn:uuid:r1>", Err("invalid utf-8 at byte 6")), (id(2), Ok("Good record 2."))],
        ),
        case(
            "invalid in the declared charset",
            vec![response(1, "http://e.com/", &http(Some("text/plain; charset=utf-8"), "", b"ok \xff"))],
            vec![("<urn:uuid:r1>", Err("invalid utf-8 at byte 3"))],
        ),
        case(
            "invalid shift_jis",
            vec![response(1, "http://e.com/", &http(Some("text/plain; charset=shift_jis"), "", b"\x93"))],
            vec![("<urn:uuid:r1>", Err("content is not valid Shift_JIS"))],
        ),
        case(
            "unknown charset",
            vec![response(1, "http://e.com/", &http(Some("text/html; charset=klingon"), "", b"x"))],
            vec![("<urn:uuid:r1>", Err("unknown charset \"klingon\""))],
        ),
        case(
            "binary content",
            vec![wet(1, "http://e.com/", "text\0with a nul"), good(2)],
            vec![(id(1), Err("binary content (NUL byte at byte 4")), (id(2), Ok("Good record 2."))],
        ),
        case(
            "not a text document",
            vec![response(1, "http://e.com/a.png", &http(Some("image/png"), "", b"\x89PNG\r\n\x1a\n")), good(2)],
            vec![("<urn:uuid:r1>", Err("not a text document (content type image/png)")), (id(2), Ok("Good record 2."))],
        ),
        case(
            "no content type: html sniffed",
            vec![response(1, "http://e.com/", &http(None, "", b"<html><body><p>a</p><p>b</p></body></html>"))],
            vec![("<urn:uuid:r1>", Ok("a\nb"))],
        ),
        case(
            "chunked transfer encoding",
            vec![response(1, "http://e.com/", &http(Some("text/plain"), "Transfer-Encoding: chunked\r\n", b"5\r\nHello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"))],
            vec![("<urn:uuid:r1>", Ok("Hello, world"))],
        ),
        case(
            "bad chunked transfer encoding",
            vec![response(1, "http://e.com/", &http(Some("text/plain"), "Transfer-Encoding: chunked\r\n", b"zz\r\nHello\r\n"))],
            vec![("<urn:uuid:r1>", Err("malformed http response: bad chunked encoding"))],
        ),
        case(
            "gzip content encoding",
            vec![response(1, "http://e.com/", &http(Some("text/html"), "Content-Encoding: gzip\r\n", &gzip(b"<p>zipped</p>")))],
            vec![("<urn:uuid:r1>", Ok("zipped"))],
        ),
        case(
            "brotli content encoding",
            vec![response(1, "http://e.com/", &http(Some("text/html"), "Content-Encoding: br\r\n", b"\x0b\x02\x80"))],
            vec![("<urn:uuid:r1>", Err("unsupported encoding \"br\""))],
        ),
        case(
            "no http status line",
            vec![response(1, "http://e.com/", b"<html>no headers</html>"), good(2)],
            vec![("<urn:uuid:r1>", Err("malformed http response: no HTTP/ status line")), (id(2), Ok("Good record 2."))],
        ),
        Case {
            skipped: 3,
            ..case(
                "request, metadata and revisit records are passed over",
                vec![
                    warc(&[("WARC-Type", "request"), ("WARC-Record-ID", "<q>")], b"GET / HTTP/1.1\r\n\r\n"),
                    good(1),
                    warc(&[("WARC-Type", "metadata"), ("WARC-Record-ID", "<m>")], b"fetchTimeMs: 12\r\n"),
                    warc(&[("WARC-Type", "revisit"), ("WARC-Record-ID", "<v>")], b""),
                    good(2),
                ],
                vec![(id(1), Ok("Good record 1.")), (id(2), Ok("Good record 2."))],
            )
        },
        case(
            "missing version line: resync",
            vec![b"garbage line\r\nmore garbage\r\nWARC-Type: conversion\r\n\r\n".to_vec(), good(1)],
            vec![("in@0", Err("malformed warc record: no WARC/1.x version line")), (id(1), Ok("Good record 1."))],
        ),
        case(
            "header line without a colon",
            vec![b"WARC/1.0\r\nWARC-Type conversion\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n".to_vec(), good(1)],
            vec![("in@0", Err("malformed warc record: header line without a colon")), (id(1), Ok("Good record 1."))],
        ),
        case(
            "bad content-length",
            vec![b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 12x\r\n\r\nabc\r\n\r\n".to_vec(), good(1)],
            vec![("in@0", Err("malformed warc record: bad Content-Length \"12x\"")), (id(1), Ok("Good record 1."))],
        ),
        case(
            "no content-length",
            vec![b"WARC/1.0\r\nWARC-Type: conversion\r\n\r\nabc\r\n\r\n".to_vec(), good(1)],
            vec![("in@0", Err("malformed warc record: no Content-Length")), (id(1), Ok("Good record 1."))],
        ),
        case(
            "no warc-type",
            vec![b"WARC/1.0\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n".to_vec(), good(1)],
            vec![("in@0", Err("malformed warc record: no WARC-Type")), (id(1), Ok("Good record 1."))],
        ),
        case(
            "header does not end before the next record",
            vec![b"WARC/1.0\r\nWARC-Type: conversion\r\n".to_vec(), good(1)],
            vec![("in@0", Err("malformed warc record: header does not end")), (id(1), Ok("Good record 1."))],
        ),
        case(
            "header ends early at the end of the file",
            vec![good(1), b"WARC/1.0\r\nWARC-Type: conver".to_vec()],
            vec![(id(1), Ok("Good record 1.")), ("in@398", Err("malformed warc record: header ends early"))],
        ),
        case(
            "content-length past the end of the file",
            vec![good(1), warc_with_length(&[("WARC-Type", "conversion"), ("WARC-Record-ID", "<t>")], b"cut short", 1000)],
            vec![(id(1), Ok("Good record 1.")), ("<t>", Err("warc record cut short: Content-Length is 1000 but only 13 bytes follow"))],
        ),
        case(
            "content-length too long: the next records are found inside",
            vec![warc_with_length(&[("WARC-Type", "conversion"), ("WARC-Record-ID", "<t>")], b"abc", 500), good(1), good(2)],
            vec![("<t>", Err("warc record's Content-Length (500) does not end at a record boundary")), (id(1), Ok("Good record 1.")), (id(2), Ok("Good record 2."))],
        ),
        case(
            "content-length too long, past the end, with a record inside",
            vec![warc_with_length(&[("WARC-Type", "conversion"), ("WARC-Record-ID", "<t>")], b"abc", 5000), good(1)],
            vec![("<t>", Err("warc record cut short: Content-Length is 5000")), (id(1), Ok("Good record 1."))],
        ),
        case(
            "content-length too short",
            vec![warc_with_length(&[("WARC-Type", "conversion"), ("WARC-Record-ID", "<t>")], b"abcdef", 3), good(1)],
            vec![("<t>", Err("warc record's Content-Length (3) does not end at a record boundary")), (id(1), Ok("Good record 1."))],
        ),
        Case {
            limit: Some(100),
            ..case(
                "record longer than the limit",
                vec![wet(1, "http://e.com/", &"long ".repeat(30)), good(2)],
                vec![(id(1), Err("record longer than the limit of 100 bytes")), (id(2), Ok("Good record 2."))],
            )
        },
        Case {
            limit: Some(100),
            ..case(
                "record longer than the limit, cut short",
                vec![good(2), warc_with_length(&[("WARC-Type", "conversion"), ("WARC-Record-ID", "<t>")], b"short", 150)],
                vec![(id(2), Ok("Good record 2.")), ("<t>", Err("warc record cut short: Content-Length is 150 but only 9 bytes follow"))],
            )
        },
        case(
            "lf line ends",
            vec![b"WARC/1.0\nWARC-Type: conversion\nWARC-Record-ID: <lf>\nContent-Length: 5\n\nHello\n\n".to_vec(), good(1)],
            vec![("<lf>", Ok("Hello")), (id(1), Ok("Good record 1."))],
        ),
        case(
            "folded header line and no record id",
            vec![b"WARC/1.1\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://e.com/\r\n  long\r\nContent-Length: 2\r\n\r\nok\r\n\r\n".to_vec()],
            vec![("in@0", Ok("ok"))],
        ),
        case(
            "no blank line at the end of the file",
            vec![b"WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Record-ID: <e>\r\nContent-Length: 3\r\n\r\nend".to_vec()],
            vec![("<e>", Ok("end"))],
        ),
        case("empty file", vec![], vec![]),
        case("only blank lines", vec![b"\r\n\r\n\n".to_vec()], vec![]),
    ]
}

#[test]
fn table() {
    for c in cases() {
        for storage in STORAGES {
            let mut options = InputOptions::default();
            if let Some(limit) = c.limit {
                options.max_record_bytes = limit;
            }
            let data = storage.encode(&c.parts);
            let mut stream =
                records_from_reader(std::io::Cursor::new(data), "in", Format::Warc, &options);
            let got: Vec<_> = stream.by_ref().collect();
            check(c.name, storage, &got, &c.want);
            assert_eq!(
                stream.skipped(),
                c.skipped,
                "case {} ({storage:?}): skipped",
                c.name
            );
            // Every record's position is where it starts, and ordinals count from 0.
            let plain = c.parts.concat();
            for (i, r) in got.iter().enumerate() {
                assert_eq!(r.source.ordinal.record, i as u64, "case {}", c.name);
                if !matches!(r.body, Err(RecordError::MalformedWarc { .. })) {
                    let at = &plain[r.source.offset as usize..];
                    assert!(
                        at.starts_with(b"WARC/1."),
                        "case {}: record {i} offset {}",
                        c.name,
                        r.source.offset
                    );
                }
            }
        }
    }
}

#[test]
fn resuming_gives_the_same_records() {
    for c in cases() {
        let mut options = InputOptions::default();
        if let Some(limit) = c.limit {
            options.max_record_bytes = limit;
        }
        let data = c.parts.concat();
        let all: Vec<Got> = read(data.clone(), Format::Warc, &options)
            .iter()
            .map(compact)
            .collect();
        for n in 0..=all.len() {
            let rest: Vec<_> = records_from_reader(
                std::io::Cursor::new(data.clone()),
                "in",
                Format::Warc,
                &options,
            )
            .resume_at(n as u64)
            .collect();
            assert_eq!(
                rest.first().map(|r| r.source.ordinal.record),
                (n < all.len()).then_some(n as u64)
            );
            let rest: Vec<Got> = rest.iter().map(compact).collect();
            assert_eq!(rest, all[n..], "case {}: resume at {n}", c.name);
        }
    }
}

#[test]
fn metadata_of_a_wet_record() {
    let got = read(
        wet(7, "https://example.com/x?y=1", "text"),
        Format::Warc,
        &InputOptions::default(),
    );
    let r = &got[0];
    assert_eq!(r.meta.url.as_deref(), Some("https://example.com/x?y=1"));
    assert_eq!(r.meta.date.as_deref(), Some("2024-02-20T22:14:31Z"));
    assert_eq!(r.meta.warc_type.as_deref(), Some("conversion"));
    assert_eq!(r.meta.http_status, None);
    let got = read(
        response(1, "http://e.com/", &http(Some("text/plain"), "", b"x")),
        Format::Warc,
        &InputOptions::default(),
    );
    assert_eq!(got[0].meta.http_status, Some(200));
    assert_eq!(got[0].meta.warc_type.as_deref(), Some("response"));
}

/// Truncated gzip: the records before the cut are kept, and the cut is one error record at the
/// end, wherever it falls.
#[test]
fn truncated_gzip() {
    let parts: Vec<Vec<u8>> = (1..=4)
        .map(|n| wet(n, "http://e.com/", &format!("Record {n} text.")))
        .collect();
    let full = gzip_members(&parts);
    let member_ends: Vec<usize> = parts
        .iter()
        .scan(0, |end, p| {
            *end += gzip(p).len();
            Some(*end)
        })
        .collect();
    // From 2 bytes on, the gzip magic is there and the file is read as gzip.
    for cut in 2..full.len() {
        if member_ends.contains(&cut) {
            // A cut between members leaves a valid, shorter file.
            continue;
        }
        let got = read(full[..cut].to_vec(), Format::Warc, &InputOptions::default());
        let complete = member_ends.iter().filter(|&&end| end <= cut).count();
        let (last, before) = got.split_last().expect("an error record at least");
        assert!(
            matches!(last.body, Err(RecordError::TruncatedGzip(_))),
            "cut {cut}: {:?}",
            last.body
        );
        // The record whose member is cut may have been read before the member's checksum was
        // reached: then it is kept, and the error follows it.
        assert!(
            before.len() == complete || before.len() == complete + 1,
            "cut {cut}: {} records",
            before.len()
        );
        for (i, r) in before.iter().enumerate() {
            assert_eq!(
                r.text(),
                Some(format!("Record {} text.", i + 1).as_str()),
                "cut {cut}"
            );
        }
    }
}

#[test]
fn corrupt_gzip() {
    let parts: Vec<Vec<u8>> = (1..=3)
        .map(|n| wet(n, "http://e.com/", &format!("Record {n} text.")))
        .collect();
    let mut data = gzip_members(&parts);
    let first = gzip(&parts[0]).len();
    let second = gzip(&parts[1]).len();
    // Damage the deflate data of the second member.
    data[first + second / 2] ^= 0x55;
    let got = read(data, Format::Warc, &InputOptions::default());
    assert_eq!(got[0].text(), Some("Record 1 text."));
    let last = got.last().unwrap();
    assert!(
        matches!(
            last.body,
            Err(RecordError::CorruptGzip(_) | RecordError::TruncatedGzip(_))
        ),
        "{:?}",
        last.body
    );
    assert!(got.len() <= 3);
}

/// A file a member per record and a .warc.wet.gz name, found by its name.
#[test]
fn warc_wet_gz_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("CC-MAIN-20240220211055-20240221001055-00000.warc.wet.gz");
    let parts = vec![
        wet_info(),
        wet(1, "http://e.com/1", ARTICLE),
        wet(2, "http://e.com/2", "two"),
    ];
    std::fs::write(&path, gzip_members(&parts)).unwrap();
    let mut stream = unspin_io::records(&path, &InputOptions::default());
    let got: Vec<_> = stream.by_ref().collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].text(), Some(ARTICLE));
    assert_eq!(got[1].meta.url.as_deref(), Some("http://e.com/2"));
    assert_eq!(&*got[1].source.path, path.as_path());
    assert_eq!(stream.skipped(), 1);
    let shown = got[1].source.to_string();
    assert!(
        shown.ends_with(&format!(
            ".warc.wet.gz@{} (record 1)",
            parts[0].len() + parts[1].len()
        )),
        "{shown}"
    );
}
