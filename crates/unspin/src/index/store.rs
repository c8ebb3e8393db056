//! The index file: one versioned, checksummed container of named sections, the same layout as
//! the model pack's (crate::pack) under its own magic, written section by section to a temporary
//! file that is renamed over the target only once it is complete and synced.
//!
//! ```text
//! 0   magic        8 bytes  "UNSPINIX"
//! 8   version      u32      FORMAT_VERSION
//! 12  n_sections   u32
//! 16  table_crc    u32      CRC-32 of the section table
//! 20  reserved     u32
//! 24  section table, n_sections × 40 bytes:
//!         name [u8; 16] (NUL-padded), offset u64, len u64, crc32 u32, reserved u32
//! ... section bodies, each 8-byte aligned
//! ```
//!
//! Opening reads the file once through `read` to check every CRC (so the check does not leave the
//! whole file resident in this process), then maps it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::IndexError;

/// The magic bytes at the start of every index.
pub const MAGIC: &[u8; 8] = b"UNSPINIX";
/// The index format this build reads and writes (2: three signature streams, phrase-aware
/// canonical words; 3: `lsh.frag`, 16 key bits per entry that lookups compare, with the full
/// keys stored only for small tables; 4: a fourth stream, the content words, whose MinHash
/// values are bands of their own; 5: passage ids of three bytes up to 2^24 passages, the texts
/// first).
pub const FORMAT_VERSION: u32 = 5;
use crate::pack::{u32_at, u64_at, view, Pod, ENTRY, HEADER};

pub(crate) enum Bytes {
    Mapped(Mmap),
    /// Words rather than bytes, so that sections keep their 8-byte alignment in memory.
    Owned(Vec<u64>, usize),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            // SAFETY: a Vec<u64> of n words holds 8n initialised bytes; len <= 8n.
            Bytes::Owned(v, len) => unsafe {
                std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), *len)
            },
        }
    }
}

/// A verified container: its bytes and its section table.
pub(crate) struct Container {
    pub(crate) bytes: Bytes,
    sections: Vec<(String, usize, usize)>,
}

struct Entry {
    name: String,
    off: u64,
    len: u64,
    crc: u32,
}

fn parse_table(head: &[u8], file_len: u64) -> Result<Vec<Entry>, IndexError> {
    if head.len() < 8 || &head[..8] != MAGIC {
        return Err(IndexError::BadMagic);
    }
    if head.len() < HEADER {
        return Err(IndexError::Truncated("header cut short".into()));
    }
    let version = u32_at(head, 8);
    if version != FORMAT_VERSION {
        return Err(IndexError::WrongVersion {
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    let n = u32_at(head, 12) as usize;
    if n > 1024 {
        return Err(IndexError::Malformed(format!("{n} sections")));
    }
    let table_end = HEADER + n * ENTRY;
    if head.len() < table_end {
        return Err(IndexError::Truncated("section table cut short".into()));
    }
    if crc32fast::hash(&head[HEADER..table_end]) != u32_at(head, 16) {
        return Err(IndexError::Corrupt("section table".into()));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let e = HEADER + i * ENTRY;
        let raw = &head[e..e + 16];
        let name_len = raw.iter().position(|&b| b == 0).unwrap_or(16);
        let name = std::str::from_utf8(&raw[..name_len])
            .map_err(|_| IndexError::Malformed("section name is not UTF-8".into()))?
            .to_string();
        let off = u64_at(head, e + 16);
        let len = u64_at(head, e + 24);
        if off.checked_add(len).is_none_or(|end| end > file_len) {
            return Err(IndexError::Truncated(format!(
                "section {name:?} runs past the end"
            )));
        }
        if !off.is_multiple_of(8) || (off as usize) < table_end {
            return Err(IndexError::Malformed(format!(
                "section {name:?} is misplaced"
            )));
        }
        out.push(Entry {
            name,
            off,
            len,
            crc: u32_at(head, e + 32),
        });
    }
    Ok(out)
}

impl Container {
    /// Checks every section's CRC by reading the file, then maps it.
    pub(crate) fn open(path: &Path) -> Result<Container, IndexError> {
        let io = |source| IndexError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut head = vec![0u8; HEADER];
        let got = read_full(&mut file, &mut head).map_err(io)?;
        head.truncate(got);
        if head.len() >= 16 && &head[..8] == MAGIC {
            let n = (u32_at(&head, 12) as usize).min(1024);
            head.resize(HEADER + n * ENTRY, 0);
            let got = read_full(&mut file, &mut head[HEADER..]).map_err(io)?;
            head.truncate(HEADER + got);
        }
        let entries = parse_table(&head, file_len)?;
        let mut order: Vec<&Entry> = entries.iter().collect();
        order.sort_by_key(|e| e.off);
        let mut buf = vec![0u8; 1 << 20];
        for e in order {
            file.seek(SeekFrom::Start(e.off)).map_err(io)?;
            let mut h = crc32fast::Hasher::new();
            let mut left = e.len;
            while left > 0 {
                let want = left.min(buf.len() as u64) as usize;
                let got = read_full(&mut file, &mut buf[..want]).map_err(io)?;
                if got < want {
                    return Err(IndexError::Truncated(format!(
                        "section {:?} cut short",
                        e.name
                    )));
                }
                h.update(&buf[..want]);
                left -= want as u64;
            }
            if h.finalize() != e.crc {
                return Err(IndexError::Corrupt(e.name.clone()));
            }
        }
        // SAFETY: the map is read-only; an index must not be modified in place while in use.
        // Every writer of this crate writes a new file and renames it, so a reader's map keeps
        // the inode it opened.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        if map.len() as u64 != file_len {
            return Err(IndexError::Malformed(
                "the file changed while it was opened".into(),
            ));
        }
        // Lookups touch a few pages at random: reading ahead around each would fill memory with
        // pages no query wants (and, where memory is short, evict the ones it does).
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Random);
        Container::finish(Bytes::Mapped(map), entries, false)
    }

    /// Verifies a container held in memory.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Container, IndexError> {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        for (w, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
        let owned = Bytes::Owned(words, bytes.len());
        let entries = parse_table(&owned, owned.len() as u64)?;
        Container::finish(owned, entries, true)
    }

    fn finish(bytes: Bytes, entries: Vec<Entry>, check: bool) -> Result<Container, IndexError> {
        let mut sections = Vec::with_capacity(entries.len());
        for e in entries {
            let (off, end) = (e.off as usize, (e.off + e.len) as usize);
            if end > bytes.len() {
                return Err(IndexError::Truncated(format!(
                    "section {:?} runs past the end",
                    e.name
                )));
            }
            if check && crc32fast::hash(&bytes[off..end]) != e.crc {
                return Err(IndexError::Corrupt(e.name));
            }
            sections.push((e.name, off, end - off));
        }
        Ok(Container { bytes, sections })
    }

    pub(crate) fn section(&self, name: &str) -> Result<&[u8], IndexError> {
        self.sections
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|&(_, off, len)| &self.bytes[off..off + len])
            .ok_or_else(|| IndexError::Malformed(format!("missing section {name:?}")))
    }

    /// Asks the kernel to start reading `bytes` (a slice of this container) in the background,
    /// so that the page faults of several reads overlap instead of waiting in turn. Nothing
    /// for a container held in memory, or where the advice is not supported.
    pub(crate) fn will_need(&self, bytes: &[u8]) {
        #[cfg(unix)]
        if let Bytes::Mapped(m) = &self.bytes {
            let off = bytes.as_ptr() as usize - m.as_ptr() as usize;
            debug_assert!(off + bytes.len() <= m.len());
            let _ = m.advise_range(memmap2::Advice::WillNeed, off, bytes.len());
        }
        #[cfg(not(unix))]
        let _ = bytes;
    }

    pub(crate) fn u16s(&self, name: &str) -> Result<&[u16], IndexError> {
        cast(self.section(name)?, name)
    }

    /// Whether the container has section `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.sections.iter().any(|(n, _, _)| n == name)
    }

    pub(crate) fn u32s(&self, name: &str) -> Result<&[u32], IndexError> {
        cast(self.section(name)?, name)
    }

    pub(crate) fn u64s(&self, name: &str) -> Result<&[u64], IndexError> {
        cast(self.section(name)?, name)
    }

    pub(crate) fn sections(&self) -> impl Iterator<Item = (&str, usize)> {
        self.sections.iter().map(|(n, _, l)| (n.as_str(), *l))
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match f.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn cast<'a, T: Pod>(b: &'a [u8], name: &str) -> Result<&'a [T], IndexError> {
    view(b).ok_or_else(|| IndexError::Malformed(format!("section {name:?} has a bad length")))
}

/// Writes a container section by section to `<target>.tmp`, then syncs it and renames it over
/// the target, so that a crash at any point leaves the previous file as it was.
pub(crate) struct Writer {
    file: std::io::BufWriter<File>,
    tmp: PathBuf,
    /// Set when the file is a temporary file the writer adopted ([`Writer::resume`]): deleted
    /// if the writer is dropped unfinished, renamed over the target by `finish`.
    adopted: Option<tempfile::TempPath>,
    target: PathBuf,
    capacity: usize,
    entries: Vec<Entry>,
    at: u64,
}

impl Writer {
    /// Starts a container of at most `capacity` sections.
    pub(crate) fn create(target: &Path, capacity: usize) -> Result<Writer, IndexError> {
        let mut name = target.as_os_str().to_owned();
        name.push(".tmp");
        let tmp = PathBuf::from(name);
        let io = |source| IndexError::Io {
            path: tmp.clone(),
            source,
        };
        let file = File::create(&tmp).map_err(io)?;
        let mut w = Writer {
            file: std::io::BufWriter::with_capacity(1 << 20, file),
            tmp: tmp.clone(),
            adopted: None,
            target: target.to_path_buf(),
            capacity,
            entries: Vec::new(),
            at: 0,
        };
        let head = vec![0u8; HEADER + capacity * ENTRY];
        w.write(&head)?;
        Ok(w)
    }

    /// Bytes before the first section of a container of at most `capacity` sections (the
    /// header and the section table).
    pub(crate) fn head_len(capacity: usize) -> u64 {
        (HEADER + capacity * ENTRY) as u64
    }

    /// Continues a container whose first section was written in place into `file` (as
    /// [`Writer::create`] would have written it: `off` is [`Writer::head_len`] of `capacity`),
    /// without copying it. The file is renamed over `target` by [`Writer::finish`].
    pub(crate) fn resume(
        file: tempfile::NamedTempFile,
        target: &Path,
        capacity: usize,
        first: (&str, u64, u64, u32),
    ) -> Result<Writer, IndexError> {
        let (name, off, len, crc) = first;
        assert_eq!(off, Self::head_len(capacity), "the header's room");
        assert!(name.len() <= 16, "section name {name:?} too long");
        let (mut file, path) = file.into_parts();
        let tmp = path.to_path_buf();
        file.seek(SeekFrom::Start(off + len))
            .map_err(|source| IndexError::Io {
                path: tmp.clone(),
                source,
            })?;
        Ok(Writer {
            file: std::io::BufWriter::with_capacity(1 << 20, file),
            tmp,
            adopted: Some(path),
            target: target.to_path_buf(),
            capacity,
            entries: vec![Entry {
                name: name.to_string(),
                off,
                len,
                crc,
            }],
            at: off + len,
        })
    }

    fn write(&mut self, b: &[u8]) -> Result<(), IndexError> {
        self.file.write_all(b).map_err(|source| IndexError::Io {
            path: self.tmp.clone(),
            source,
        })?;
        self.at += b.len() as u64;
        Ok(())
    }

    /// Appends a section whose bytes `fill` hands to the sink it is given, in order.
    pub(crate) fn section_with(
        &mut self,
        name: &str,
        fill: impl FnOnce(&mut dyn FnMut(&[u8]) -> Result<(), IndexError>) -> Result<(), IndexError>,
    ) -> Result<(), IndexError> {
        assert!(name.len() <= 16, "section name {name:?} too long");
        assert!(self.entries.len() < self.capacity, "too many sections");
        let pad = (8 - self.at % 8) % 8;
        self.write(&[0u8; 8][..pad as usize])?;
        let off = self.at;
        let mut h = crc32fast::Hasher::new();
        fill(&mut |p: &[u8]| {
            h.update(p);
            self.write(p)
        })?;
        self.entries.push(Entry {
            name: name.to_string(),
            off,
            len: self.at - off,
            crc: h.finalize(),
        });
        Ok(())
    }

    /// Appends sections of known lengths that are filled side by side: `fill` gets one sink
    /// per section and may feed them in any interleaving; each sink's bytes are written in
    /// place (at the offset its section will have), so no section waits in a temporary file
    /// for the one before it to end. Every section must receive exactly its length.
    pub(crate) fn columns(
        &mut self,
        sections: &[(&str, u64)],
        fill: impl FnOnce(&mut [Column<'_>]) -> Result<(), IndexError>,
    ) -> Result<(), IndexError> {
        assert!(
            self.entries.len() + sections.len() <= self.capacity,
            "too many sections"
        );
        let tmp = self.tmp.clone();
        let io = |source| IndexError::Io {
            path: tmp.clone(),
            source,
        };
        // The padding before the first column goes through the buffered writer as usual.
        let pad = (8 - self.at % 8) % 8;
        self.write(&[0u8; 8][..pad as usize])?;
        self.file.flush().map_err(io)?;
        let mut at = self.at;
        let mut cols: Vec<Column<'_>> = Vec::with_capacity(sections.len());
        let file = self.file.get_ref();
        for &(name, len) in sections {
            assert!(name.len() <= 16, "section name {name:?} too long");
            at += (8 - at % 8) % 8;
            cols.push(Column {
                name,
                file,
                tmp: &self.tmp,
                start: at,
                at,
                end: at + len,
                buf: Vec::with_capacity(1 << 20),
                crc: crc32fast::Hasher::new(),
            });
            at += len;
        }
        fill(&mut cols)?;
        for c in &mut cols {
            c.flush()?;
            if c.at != c.end {
                return Err(IndexError::Malformed(format!(
                    "section {:?} got {} of its {} bytes",
                    c.name,
                    c.at - c.start,
                    c.end - c.start
                )));
            }
        }
        // Zero the padding between columns, as `section_with` writes it.
        for pair in cols.windows(2) {
            let gap = (pair[1].start - pair[0].end) as usize;
            write_at(file, &[0u8; 8][..gap], pair[0].end).map_err(io)?;
        }
        let new: Vec<Entry> = cols
            .into_iter()
            .map(|c| Entry {
                name: c.name.to_string(),
                off: c.start,
                len: c.end - c.start,
                crc: c.crc.finalize(),
            })
            .collect();
        self.file.seek(SeekFrom::Start(at)).map_err(io)?;
        self.at = at;
        self.entries.extend(new);
        Ok(())
    }

    /// Appends a section made of several byte slices, in order.
    pub(crate) fn section_parts(&mut self, name: &str, parts: &[&[u8]]) -> Result<(), IndexError> {
        self.section_with(name, |sink| parts.iter().try_for_each(|p| sink(p)))
    }

    /// Appends a section of raw bytes.
    pub(crate) fn bytes(&mut self, name: &str, data: &[u8]) -> Result<(), IndexError> {
        self.section_parts(name, &[data])
    }

    /// Appends a section of `u32`s.
    pub(crate) fn u32s(&mut self, name: &str, data: &[u32]) -> Result<(), IndexError> {
        self.bytes(name, as_bytes(data))
    }

    /// Appends a section of `u64`s.
    pub(crate) fn u64s(&mut self, name: &str, data: &[u64]) -> Result<(), IndexError> {
        self.bytes(name, as_bytes(data))
    }

    /// Writes the header and section table, syncs, and renames the file over the target.
    pub(crate) fn finish(self) -> Result<u64, IndexError> {
        let n = self.entries.len();
        let mut head = vec![0u8; HEADER + n * ENTRY];
        head[..8].copy_from_slice(MAGIC);
        head[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        head[12..16].copy_from_slice(&(n as u32).to_le_bytes());
        for (i, e) in self.entries.iter().enumerate() {
            let at = HEADER + i * ENTRY;
            head[at..at + e.name.len()].copy_from_slice(e.name.as_bytes());
            head[at + 16..at + 24].copy_from_slice(&e.off.to_le_bytes());
            head[at + 24..at + 32].copy_from_slice(&e.len.to_le_bytes());
            head[at + 32..at + 36].copy_from_slice(&e.crc.to_le_bytes());
        }
        let crc = crc32fast::hash(&head[HEADER..]);
        head[16..20].copy_from_slice(&crc.to_le_bytes());
        let tmp = self.tmp.clone();
        let io = |source| IndexError::Io {
            path: tmp.clone(),
            source,
        };
        let mut file = self.file.into_inner().map_err(|e| io(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&head).map_err(io)?;
        file.sync_all().map_err(io)?;
        match self.adopted {
            None => {
                drop(file);
                std::fs::rename(&self.tmp, &self.target).map_err(|source| IndexError::Io {
                    path: self.target.clone(),
                    source,
                })?;
            }
            Some(path) => {
                if let Err(e) = path.persist(&self.target) {
                    // Another file system (the spill directory is not the target's): copy.
                    let path = e.path;
                    let mut name = self.target.as_os_str().to_owned();
                    name.push(".tmp");
                    let tmp = PathBuf::from(name);
                    let io = |source| IndexError::Io {
                        path: tmp.clone(),
                        source,
                    };
                    file.seek(SeekFrom::Start(0)).map_err(io)?;
                    let mut out = File::create(&tmp).map_err(io)?;
                    std::io::copy(&mut file, &mut out).map_err(io)?;
                    out.sync_all().map_err(io)?;
                    drop(path);
                    std::fs::rename(&tmp, &self.target).map_err(|source| IndexError::Io {
                        path: self.target.clone(),
                        source,
                    })?;
                }
            }
        }
        // The rename is durable once the directory is synced; not every platform allows it.
        if let Some(dir) = self.target.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(self.at)
    }
}

/// One section of [`Writer::columns`]: bytes handed to it are written at its section's next
/// offset.
pub(crate) struct Column<'w> {
    name: &'w str,
    file: &'w File,
    tmp: &'w Path,
    start: u64,
    at: u64,
    end: u64,
    buf: Vec<u8>,
    crc: crc32fast::Hasher,
}

impl Column<'_> {
    /// Appends `b` to the section.
    pub(crate) fn write(&mut self, b: &[u8]) -> Result<(), IndexError> {
        if self.buf.len() + b.len() > self.buf.capacity() {
            self.flush()?;
        }
        if b.len() >= self.buf.capacity() {
            self.put(b)
        } else {
            self.buf.extend_from_slice(b);
            Ok(())
        }
    }

    fn flush(&mut self) -> Result<(), IndexError> {
        let buf = std::mem::take(&mut self.buf);
        let r = self.put(&buf);
        self.buf = buf;
        self.buf.clear();
        r
    }

    fn put(&mut self, b: &[u8]) -> Result<(), IndexError> {
        if self.at + b.len() as u64 > self.end {
            return Err(IndexError::Malformed(format!(
                "section {:?} got more than its {} bytes",
                self.name,
                self.end - self.start
            )));
        }
        self.crc.update(b);
        write_at(self.file, b, self.at).map_err(|source| IndexError::Io {
            path: self.tmp.to_path_buf(),
            source,
        })?;
        self.at += b.len() as u64;
        Ok(())
    }
}

/// Writes all of `b` at offset `at` of `file`, leaving the file's cursor where it was.
#[cfg(unix)]
fn write_at(file: &File, b: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, b, at)
}

/// Writes all of `b` at offset `at` of `file` (Windows moves the cursor; every caller seeks
/// before it writes through the cursor again).
#[cfg(windows)]
fn write_at(file: &File, mut b: &[u8], mut at: u64) -> std::io::Result<()> {
    while !b.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, b, at)?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        b = &b[n..];
        at += n as u64;
    }
    Ok(())
}

/// [`as_bytes`], writable: any bytes written are a valid `T` (Pod).
pub(crate) fn as_bytes_mut<T: Pod>(data: &mut [T]) -> &mut [u8] {
    // SAFETY: as `as_bytes`; every byte pattern is a valid Pod value, so writes cannot break one.
    unsafe {
        std::slice::from_raw_parts_mut(data.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(data))
    }
}

pub(crate) fn as_bytes<T: Pod>(data: &[T]) -> &[u8] {
    // SAFETY: the Pod types (u32/u64/f32) have no padding and any byte pattern may be read; the
    // result borrows `data`. The format is little-endian, like the machines this builds for
    // (asserted in `pack::view`).
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> Container {
        Container::open(path).unwrap()
    }

    #[test]
    fn columns_filled_side_by_side_equal_sections_written_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = ((0..10_000u32).collect::<Vec<_>>(), vec![7u16; 3_001]);
        let one = dir.path().join("one");
        let mut w = Writer::create(&one, 4).unwrap();
        w.bytes("head", b"odd").unwrap();
        w.u32s("a", &a).unwrap();
        w.bytes("b", as_bytes(&b)).unwrap();
        w.bytes("tail", b"end").unwrap();
        w.finish().unwrap();
        let two = dir.path().join("two");
        let mut w = Writer::create(&two, 4).unwrap();
        w.bytes("head", b"odd").unwrap();
        w.columns(&[("a", 40_000), ("b", 6_002)], |cols| {
            // Uneven pieces, interleaved.
            for (x, y) in a.chunks(999).zip(b.chunks(300)).take(10) {
                cols[1].write(as_bytes(y))?;
                cols[0].write(as_bytes(x))?;
            }
            cols[1].write(as_bytes(&b[3_000..]))?;
            cols[0].write(as_bytes(&a[9_990..]))
        })
        .unwrap();
        w.bytes("tail", b"end").unwrap();
        w.finish().unwrap();
        assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&two).unwrap());
        assert_eq!(read(&two).u32s("a").unwrap(), &a[..]);
    }

    #[test]
    fn a_piece_larger_than_a_columns_buffer_goes_straight_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..3_000_001u32).map(|i| (i % 251) as u8).collect();
        let path = dir.path().join("big");
        let mut w = Writer::create(&path, 2).unwrap();
        w.columns(&[("small", 3), ("big", big.len() as u64)], |cols| {
            cols[0].write(b"ab")?;
            cols[1].write(&big[..10])?;
            cols[1].write(&big[10..])?;
            cols[0].write(b"c")
        })
        .unwrap();
        w.finish().unwrap();
        let c = read(&path);
        assert_eq!(c.section("small").unwrap(), b"abc");
        assert_eq!(c.section("big").unwrap(), &big[..]);
    }

    #[test]
    fn a_column_given_too_few_or_too_many_bytes_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Writer::create(&dir.path().join("short"), 2).unwrap();
        let e = w.columns(&[("a", 8)], |cols| cols[0].write(&[1, 2, 3]));
        assert!(matches!(e, Err(IndexError::Malformed(m)) if m.contains("got 3 of its 8")));
        let mut w = Writer::create(&dir.path().join("long"), 2).unwrap();
        let e = w.columns(&[("a", 2)], |cols| cols[0].write(&[1, 2, 3]));
        assert!(e.is_err());
    }
}
