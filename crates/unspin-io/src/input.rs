//! The byte stream under every reader: gzip recognised by its magic bytes, the offset of what was
//! consumed, bytes pushed back for resynchronisation, and lines read with a size cap.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

use crate::RecordError;

/// Buffer size for files and decompressed streams.
const BUF: usize = 256 << 10;

/// A buffered stream of decompressed bytes that knows how far it has got and can take bytes
/// back.
pub(crate) struct Input {
    inner: Box<dyn BufRead + Send>,
    /// Bytes handed back by [`Input::unread`], read before `inner`.
    pending: Vec<u8>,
    pending_pos: usize,
    /// Bytes consumed so far (decompressed), less those handed back.
    offset: u64,
    gzip: bool,
}

impl Input {
    /// Wraps a reader, decompressing it if it starts with the gzip magic bytes.
    pub(crate) fn new<R: Read + Send + 'static>(mut reader: R) -> io::Result<Input> {
        // The first two bytes are read on their own: a pipe may deliver fewer at a time.
        let mut head = [0u8; 2];
        let mut got = 0;
        while got < 2 {
            match reader.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let gzip = head[..got] == [0x1f, 0x8b];
        let whole =
            BufReader::with_capacity(BUF, io::Cursor::new(head).take(got as u64).chain(reader));
        let inner: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(BUF, MultiGzDecoder::new(whole)))
        } else {
            Box::new(whole)
        };
        Ok(Input {
            inner,
            pending: Vec::new(),
            pending_pos: 0,
            offset: 0,
            gzip,
        })
    }

    /// Bytes consumed so far, in the decompressed stream.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The error record for a failed read: truncated or corrupt gzip, or a plain read error.
    pub(crate) fn error(&self, e: io::Error) -> RecordError {
        if !self.gzip {
            RecordError::Read(e)
        } else if e.kind() == io::ErrorKind::UnexpectedEof {
            RecordError::TruncatedGzip(e)
        } else {
            RecordError::CorruptGzip(e)
        }
    }

    /// Puts bytes back in front of the stream, to be read again.
    pub(crate) fn unread(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut v = Vec::with_capacity(bytes.len() + self.pending.len() - self.pending_pos);
        v.extend_from_slice(bytes);
        v.extend_from_slice(&self.pending[self.pending_pos..]);
        self.pending = v;
        self.pending_pos = 0;
        self.offset -= bytes.len() as u64;
    }

    /// Reads one line, without its `\n` or `\r\n`, into `buf` (cleared first). A line longer than
    /// `limit` bytes is consumed to its end without being kept: `buf` then holds its first
    /// `limit` bytes only. `Ok(None)` at the end of the stream.
    pub(crate) fn read_line(
        &mut self,
        buf: &mut Vec<u8>,
        limit: usize,
    ) -> io::Result<Option<Line>> {
        buf.clear();
        let mut len: u64 = 0;
        let mut newline = false;
        loop {
            let chunk = match self.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            let (take, used, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, i + 1, true),
                None => (chunk.len(), chunk.len(), false),
            };
            // One byte more than the limit is kept, so that a `\r` before the `\n` can be
            // dropped from a line of exactly `limit` bytes.
            let room = (limit + 1).saturating_sub(buf.len());
            buf.extend_from_slice(&chunk[..take.min(room)]);
            len += take as u64;
            self.consume(used);
            if done {
                newline = true;
                break;
            }
        }
        if len == 0 && !newline {
            return Ok(None);
        }
        if newline && buf.last() == Some(&b'\r') && len == buf.len() as u64 {
            buf.pop();
            len -= 1;
        }
        let overlong = len > limit as u64;
        buf.truncate(limit);
        Ok(Some(Line { overlong }))
    }

    /// Skips `n` bytes; returns how many there were.
    pub(crate) fn skip(&mut self, n: u64) -> io::Result<u64> {
        io::copy(&mut self.take(n), &mut io::sink())
    }
}

/// What [`Input::read_line`] found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    /// The line was longer than the limit and was not kept whole.
    pub(crate) overlong: bool,
}

impl Read for Input {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let chunk = self.fill_buf()?;
        let n = chunk.len().min(out.len());
        out[..n].copy_from_slice(&chunk[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pending_pos < self.pending.len() {
            Ok(&self.pending[self.pending_pos..])
        } else {
            self.inner.fill_buf()
        }
    }

    fn consume(&mut self, n: usize) {
        self.offset += n as u64;
        if self.pending_pos < self.pending.len() {
            self.pending_pos += n;
            if self.pending_pos >= self.pending.len() {
                self.pending.clear();
                self.pending_pos = 0;
            }
        } else {
            self.inner.consume(n);
        }
    }
}

/// Checks that bytes are text: no NUL byte, valid UTF-8.
pub(crate) fn check_text(bytes: &[u8]) -> Result<&str, RecordError> {
    if let Some(at) = memchr::memchr(0, bytes) {
        return Err(RecordError::Binary { at });
    }
    std::str::from_utf8(bytes).map_err(|e| RecordError::InvalidUtf8 {
        at: e.valid_up_to(),
    })
}

/// Drops a leading UTF-8 byte order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}
