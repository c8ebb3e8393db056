//! Plain text: the whole stream is one record.

use std::io::Read;

use crate::input::{check_text, strip_bom, Input};
use crate::records::{Draft, Reader};
use crate::{Meta, RecordError};

pub(crate) struct TextReader {
    input: Option<Input>,
    name: String,
    limit: usize,
}

impl TextReader {
    pub(crate) fn new(input: Input, name: String, limit: usize) -> TextReader {
        TextReader {
            input: Some(input),
            name,
            limit,
        }
    }
}

impl Reader for TextReader {
    fn next_draft(&mut self, skip: bool) -> Option<Draft> {
        let input = self.input.take()?;
        let body = if skip {
            Ok(String::new())
        } else {
            read_text(input, self.limit)
        };
        Some(Draft {
            id: std::mem::take(&mut self.name),
            line: Some(1),
            offset: 0,
            meta: Meta::default(),
            body,
        })
    }
}

fn read_text(mut input: Input, limit: usize) -> Result<String, RecordError> {
    let mut buf = Vec::new();
    // One byte past the limit tells a file of exactly `limit` bytes from a longer one; a longer
    // one is not read further.
    if let Err(e) = (&mut input).take(limit as u64 + 1).read_to_end(&mut buf) {
        return Err(input.error(e));
    }
    if buf.len() > limit {
        return Err(RecordError::TooLong { limit });
    }
    if buf.starts_with(b"\xEF\xBB\xBF") {
        return check_text(strip_bom(&buf)).map(str::to_string);
    }
    check_text(&buf)?;
    Ok(String::from_utf8(buf).expect("checked"))
}
