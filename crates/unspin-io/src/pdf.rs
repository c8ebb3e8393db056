//! PDF: the text layer of the whole file is one record, extracted by `pdftotext` from Debian's
//! `poppler-utils`.
//!
//! Poppler is the PDF library that desktop viewers use: it handles the fonts, encodings and
//! broken files met in practice. It runs as a child process, so a hostile PDF cannot crash or
//! exhaust this one, and it costs nothing at build time. The pure-Rust extractors panic on many
//! real PDFs (by design, to get them reported).

use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::input::check_text;
use crate::records::{Draft, Reader};
use crate::{Meta, RecordError};

/// The program run; it must be on `PATH`.
pub(crate) const PDFTOTEXT: &str = "pdftotext";

pub(crate) struct PdfReader {
    path: Option<PathBuf>,
    limit: usize,
}

impl PdfReader {
    pub(crate) fn new(path: PathBuf, limit: usize) -> PdfReader {
        PdfReader {
            path: Some(path),
            limit,
        }
    }
}

impl Reader for PdfReader {
    fn next_draft(&mut self, skip: bool) -> Option<Draft> {
        let path = self.path.take()?;
        let body = if skip {
            Ok(String::new())
        } else {
            extract(&path, self.limit)
        };
        Some(Draft {
            id: path.display().to_string(),
            line: None,
            offset: 0,
            meta: Meta::default(),
            body,
        })
    }
}

fn extract(path: &std::path::Path, limit: usize) -> Result<String, RecordError> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(RecordError::Read(e));
    }
    let mut child = Command::new(PDFTOTEXT)
        .args(["-enc", "UTF-8", "-eol", "unix"])
        .arg(path)
        .arg("-")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RecordError::PdftotextMissing)?;
    // Stderr is drained on a thread so that a chatty pdftotext never blocks on a full pipe.
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut stderr).take(4096).read_to_end(&mut kept);
        let _ = io::copy(&mut stderr, &mut io::sink());
        kept
    });
    let mut out = Vec::new();
    let read = child
        .stdout
        .take()
        .expect("piped")
        .take(limit as u64 + 1)
        .read_to_end(&mut out);
    let too_long = out.len() > limit;
    if too_long {
        // The rest of the text is not wanted; the error of the killed process is not news.
        let _ = child.kill();
    }
    let status = child.wait().map_err(RecordError::Read)?;
    let errors = errors.join().unwrap_or_default();
    if too_long {
        return Err(RecordError::TooLong { limit });
    }
    read.map_err(RecordError::Read)?;
    if !status.success() {
        let said = String::from_utf8_lossy(&errors);
        let mut lines: Vec<&str> = Vec::new();
        for line in said.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        let reason = match lines.is_empty() {
            true => format!("exit status {}", status.code().unwrap_or(-1)),
            false => lines.join("; "),
        };
        return Err(RecordError::Pdf { reason });
    }
    check_text(&out)?;
    let text = String::from_utf8(out).expect("checked");
    // Pages end with a form feed; a line break is what the text needs.
    let text = text.replace('\x0c', "\n");
    if text.trim().is_empty() {
        return Err(RecordError::NoTextLayer);
    }
    Ok(text)
}
