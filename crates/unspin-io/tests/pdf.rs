//! PDF: the text layer through `pdftotext` (Debian package poppler-utils), on PDFs written here
//! byte by byte. These tests fail, not skip, when pdftotext is missing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use unspin_io::{records, InputOptions, Record, RecordError};

/// Fails the test with what to install when pdftotext is not there.
fn require_pdftotext() {
    let found = std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok();
    assert!(
        found,
        "pdftotext is missing: the PDF reader needs Debian's poppler-utils \
         (apt-get install -y poppler-utils)"
    );
}

/// A PDF with one page per entry, each page's lines in Helvetica (WinAnsi), with a correct
/// cross-reference table.
fn pdf(pages: &[&[&str]]) -> Vec<u8> {
    let n = pages.len();
    // Objects: 1 catalog, 2 page tree, 3 font, then a page and its content per page.
    let mut objects: Vec<String> = Vec::new();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {n} >>",
        kids.join(" ")
    ));
    objects.push(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
    );
    for (i, lines) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R \
             /Resources << /Font << /F1 3 0 R >> >> >>",
            5 + 2 * i
        ));
        let mut content = String::from("BT /F1 12 Tf 14 TL 72 720 Td\n");
        for line in *lines {
            // WinAnsi: the characters of these tests are Latin-1, written as octal escapes.
            let mut s = String::new();
            for c in line.chars() {
                match c {
                    '(' | ')' | '\\' => write!(s, "\\{c}").unwrap(),
                    ' '..='~' => s.push(c),
                    _ => write!(s, "\\{:03o}", c as u32).unwrap(),
                }
            }
            writeln!(content, "({s}) Tj T*").unwrap();
        }
        content.push_str("ET");
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        writeln!(tail, "{o:010} 00000 n ").unwrap();
    }
    write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    )
    .unwrap();
    out.extend_from_slice(tail.as_bytes());
    out
}

fn read(dir: &Path, name: &str, data: &[u8], options: &InputOptions) -> Vec<Record> {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, data).unwrap();
    records(&path, options).collect()
}

#[test]
fn text_layer() {
    require_pdftotext();
    let dir = tempfile::tempdir().unwrap();
    let one = pdf(&[&["Hello, PDF world.", "Caf\u{e9} cr\u{e8}me (sic)."]]);
    let got = read(dir.path(), "one.pdf", &one, &InputOptions::default());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, dir.path().join("one.pdf").display().to_string());
    assert_eq!(
        got[0].text().map(str::trim),
        Some("Hello, PDF world.\nCafé crème (sic).")
    );

    // Pages are joined by line breaks, not form feeds.
    let two = pdf(&[&["Page one."], &["Page two."]]);
    let got = read(dir.path(), "two.PDF", &two, &InputOptions::default());
    let text = got[0].text().unwrap();
    assert!(!text.contains('\x0c'));
    let words: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(words, ["Page", "one.", "Page", "two."]);
}

#[test]
fn bad_pdfs() {
    require_pdftotext();
    let dir = tempfile::tempdir().unwrap();
    let options = InputOptions::default();

    let blank = pdf(&[&[]]);
    let got = read(dir.path(), "blank.pdf", &blank, &options);
    assert!(
        matches!(got[0].body, Err(RecordError::NoTextLayer)),
        "{:?}",
        got[0].body
    );

    let got = read(
        dir.path(),
        "junk.pdf",
        b"this is not a pdf at all",
        &options,
    );
    match &got[0].body {
        Err(RecordError::Pdf { reason }) => assert!(reason.contains("xref"), "{reason}"),
        other => panic!("{other:?}"),
    }

    let good = pdf(&[&["Cut short."]]);
    let got = read(dir.path(), "cut.pdf", &good[..good.len() / 3], &options);
    assert!(got[0].body.is_err(), "{:?}", got[0].body);

    let mut small = InputOptions::default();
    small.max_record_bytes = 10;
    let got = read(
        dir.path(),
        "long.pdf",
        &pdf(&[&["More than ten bytes of text."]]),
        &small,
    );
    assert!(
        matches!(got[0].body, Err(RecordError::TooLong { limit: 10 })),
        "{:?}",
        got[0].body
    );

    let got: Vec<_> = records(&dir.path().join("missing.pdf"), &options).collect();
    assert!(
        matches!(got[0].body, Err(RecordError::Read(_))),
        "{:?}",
        got[0].body
    );
}

/// Without pdftotext on PATH a PDF is an error record that says what to install; this test runs
/// itself again with an empty PATH.
#[test]
fn pdftotext_missing() {
    if let Ok(path) = std::env::var("UNSPIN_IO_PDF_CHILD") {
        let r = records(Path::new(&path), &InputOptions::default())
            .next()
            .unwrap();
        println!("\n<{}>", r.body.unwrap_err());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.pdf");
    std::fs::write(&path, pdf(&[&["x"]])).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "pdftotext_missing", "--nocapture"])
        .env("UNSPIN_IO_PDF_CHILD", &path)
        .env("PATH", "")
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.contains("<cannot run pdftotext (Debian package poppler-utils)>"),
        "{out}"
    );
}
