//! The model pack: one versioned, checksummed file, memory-mapped on load.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! 0   magic        8 bytes  "UNSPINPK"
//! 8   version      u32      FORMAT_VERSION
//! 12  n_sections   u32
//! 16  table_crc    u32      CRC-32 of the section table
//! 20  reserved     u32
//! 24  section table, n_sections × 40 bytes:
//!         name [u8; 16] (NUL-padded), offset u64, len u64, crc32 u32, reserved u32
//! ... section bodies, each 8-byte aligned
//! ```
//!
//! Every section's CRC-32 is checked on load, so a truncated or corrupted pack is refused with an
//! error that says which, before any of it is used.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

/// The magic bytes at the start of every pack.
pub const MAGIC: &[u8; 8] = b"UNSPINPK";
/// The pack format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Bytes of the header; the index file (`index::store`) shares this layout.
pub(crate) const HEADER: usize = 24;
/// Bytes of a section-table entry.
pub(crate) const ENTRY: usize = 40;

/// Why a pack could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// The file could not be read.
    #[error("cannot read model pack {path}")]
    Io {
        /// The pack's path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the pack magic.
    #[error("not an unspin model pack (bad magic)")]
    BadMagic,
    /// The pack was written by another format version.
    #[error("model pack format version {found} is not supported (this build reads version {expected}); rebuild it with `unspin pack build`")]
    WrongVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The file ends before the data it announces.
    #[error("model pack is truncated: {0}")]
    Truncated(String),
    /// A checksum does not match.
    #[error("model pack is corrupt: checksum mismatch in section {0:?}")]
    Corrupt(String),
    /// A section the reader needs is absent or malformed.
    #[error("model pack is malformed: {0}")]
    Malformed(String),
}

/// Shorthand for results whose error is a [`PackError`].
pub type Result<T, E = PackError> = std::result::Result<T, E>;

enum Bytes {
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

/// A verified pack file: its bytes and its section table.
pub struct PackFile {
    bytes: Bytes,
    sections: Vec<(String, usize, usize)>,
}

impl PackFile {
    /// Memory-maps and verifies the pack at `path`.
    ///
    /// # Errors
    /// Any [`PackError`]: unreadable, bad magic, wrong version, truncated or corrupt.
    pub fn open(path: &Path) -> Result<PackFile> {
        let io = |source| PackError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the map is read-only; a pack must not be modified while it is in use, the same
        // contract every mmap-based index (fst, tantivy) documents.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        PackFile::verify(Bytes::Mapped(map))
    }

    /// Verifies a pack held in memory.
    ///
    /// # Errors
    /// As [`PackFile::open`], less I/O.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<PackFile> {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        for (w, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
        PackFile::verify(Bytes::Owned(words, bytes.len()))
    }

    fn verify(bytes: Bytes) -> Result<PackFile> {
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err(PackError::BadMagic);
        }
        if bytes.len() < HEADER {
            return Err(PackError::Truncated("header cut short".into()));
        }
        let version = u32_at(&bytes, 8);
        if version != FORMAT_VERSION {
            return Err(PackError::WrongVersion {
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let n = u32_at(&bytes, 12) as usize;
        let table_end = n
            .checked_mul(ENTRY)
            .and_then(|t| t.checked_add(HEADER))
            .ok_or_else(|| PackError::Malformed("section count overflows".into()))?;
        if bytes.len() < table_end {
            return Err(PackError::Truncated("section table cut short".into()));
        }
        if crc32fast::hash(&bytes[HEADER..table_end]) != u32_at(&bytes, 16) {
            return Err(PackError::Corrupt("section table".into()));
        }
        let mut sections = Vec::with_capacity(n);
        for i in 0..n {
            let e = HEADER + i * ENTRY;
            let name_raw = &bytes[e..e + 16];
            let name_len = name_raw.iter().position(|&b| b == 0).unwrap_or(16);
            let name = std::str::from_utf8(&name_raw[..name_len])
                .map_err(|_| PackError::Malformed("section name is not UTF-8".into()))?
                .to_string();
            let off = u64_at(&bytes, e + 16);
            let len = u64_at(&bytes, e + 24);
            let end = off
                .checked_add(len)
                .filter(|&end| end <= bytes.len() as u64)
                .ok_or_else(|| {
                    PackError::Truncated(format!("section {name:?} runs past the end"))
                })?;
            let (off, end) = (off as usize, end as usize);
            if off % 8 != 0 {
                return Err(PackError::Malformed(format!(
                    "section {name:?} is misaligned"
                )));
            }
            if crc32fast::hash(&bytes[off..end]) != u32_at(&bytes, e + 32) {
                return Err(PackError::Corrupt(name));
            }
            sections.push((name, off, end - off));
        }
        Ok(PackFile { bytes, sections })
    }

    /// The bytes of section `name`.
    ///
    /// # Errors
    /// [`PackError::Malformed`] when there is no such section.
    pub fn section(&self, name: &str) -> Result<&[u8]> {
        self.sections
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|&(_, off, len)| &self.bytes[off..off + len])
            .ok_or_else(|| PackError::Malformed(format!("missing section {name:?}")))
    }

    /// Section `name` as little-endian `u32`s.
    ///
    /// # Errors
    /// Missing section, or a length that is not a multiple of four.
    pub fn u32s(&self, name: &str) -> Result<&[u32]> {
        cast(self.section(name)?, name)
    }

    /// Section `name` as little-endian `u64`s.
    ///
    /// # Errors
    /// Missing section, or a length that is not a multiple of eight.
    pub fn u64s(&self, name: &str) -> Result<&[u64]> {
        cast(self.section(name)?, name)
    }

    /// Section `name` as little-endian `f32`s.
    ///
    /// # Errors
    /// Missing section, or a length that is not a multiple of four.
    pub fn f32s(&self, name: &str) -> Result<&[f32]> {
        cast(self.section(name)?, name)
    }

    /// Names and sizes of all sections.
    pub fn sections(&self) -> impl Iterator<Item = (&str, usize)> {
        self.sections.iter().map(|(n, _, l)| (n.as_str(), *l))
    }

    /// Total size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the pack is empty (it never is once verified).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Plain-old-data element types a section can be viewed as.
pub(crate) trait Pod: Copy {}
impl Pod for u16 {}
impl Pod for u32 {}
impl Pod for u64 {}
impl Pod for f32 {}

/// Views little-endian bytes as a slice of `T`, if the length and alignment allow it.
pub(crate) fn view<T: Pod>(b: &[u8]) -> Option<&[T]> {
    const { assert!(cfg!(target_endian = "little"), "packs are little-endian") };
    let size = std::mem::size_of::<T>();
    if !b.len().is_multiple_of(size)
        || !(b.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>())
    {
        return None;
    }
    // SAFETY: alignment and length were checked above, every bit pattern is a valid u32/u64/f32,
    // and the slice borrows `b`.
    Some(unsafe { std::slice::from_raw_parts(b.as_ptr().cast::<T>(), b.len() / size) })
}

fn cast<'a, T: Pod>(b: &'a [u8], name: &str) -> Result<&'a [T]> {
    view(b).ok_or_else(|| PackError::Malformed(format!("section {name:?} has a bad length")))
}

/// The little-endian `u32` at byte `at`.
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// The little-endian `u64` at byte `at`.
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Writes packs: collect named sections, then serialise them with their checksums.
#[derive(Default)]
pub struct PackWriter {
    sections: Vec<(String, Vec<u8>)>,
}

impl PackWriter {
    /// Adds a section of raw bytes.
    ///
    /// # Panics
    /// If `name` is longer than 16 bytes (a programming error).
    pub fn bytes(&mut self, name: &str, data: Vec<u8>) {
        assert!(name.len() <= 16, "section name {name:?} too long");
        self.sections.push((name.to_string(), data));
    }

    /// Adds a section of `u32`s.
    pub fn u32s(&mut self, name: &str, data: &[u32]) {
        self.bytes(name, data.iter().flat_map(|x| x.to_le_bytes()).collect());
    }

    /// Adds a section of `u64`s.
    pub fn u64s(&mut self, name: &str, data: &[u64]) {
        self.bytes(name, data.iter().flat_map(|x| x.to_le_bytes()).collect());
    }

    /// Adds a section of `f32`s.
    pub fn f32s(&mut self, name: &str, data: &[f32]) {
        self.bytes(name, data.iter().flat_map(|x| x.to_le_bytes()).collect());
    }

    /// The whole pack file.
    pub fn finish(self) -> Vec<u8> {
        let n = self.sections.len();
        let mut out = vec![0u8; HEADER + n * ENTRY];
        out[..8].copy_from_slice(MAGIC);
        out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[12..16].copy_from_slice(&(n as u32).to_le_bytes());
        for (i, (name, data)) in self.sections.iter().enumerate() {
            while !out.len().is_multiple_of(8) {
                out.push(0);
            }
            let e = HEADER + i * ENTRY;
            let off = out.len() as u64;
            out[e..e + name.len()].copy_from_slice(name.as_bytes());
            out[e + 16..e + 24].copy_from_slice(&off.to_le_bytes());
            out[e + 24..e + 32].copy_from_slice(&(data.len() as u64).to_le_bytes());
            out[e + 32..e + 36].copy_from_slice(&crc32fast::hash(data).to_le_bytes());
            out.extend_from_slice(data);
        }
        let crc = crc32fast::hash(&out[HEADER..HEADER + n * ENTRY]);
        out[16..20].copy_from_slice(&crc.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = PackWriter::default();
        w.bytes("meta", b"{}".to_vec());
        w.u32s("nums", &[1, 2, 3]);
        w.finish()
    }

    #[test]
    fn round_trip() {
        let p = PackFile::from_bytes(sample()).unwrap();
        assert_eq!(p.section("meta").unwrap(), b"{}");
        assert_eq!(p.u32s("nums").unwrap(), &[1, 2, 3]);
        assert!(p.section("nope").is_err());
    }

    #[test]
    fn refuses_damage() {
        let good = sample();
        for cut in [0, 4, 12, 30, good.len() - 1] {
            assert!(
                PackFile::from_bytes(good[..cut].to_vec()).is_err(),
                "cut {cut}"
            );
        }
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(matches!(
            PackFile::from_bytes(bad),
            Err(PackError::Corrupt(_))
        ));
        let mut v2 = good.clone();
        v2[8] = 99;
        assert!(matches!(
            PackFile::from_bytes(v2),
            Err(PackError::WrongVersion { found: 99, .. })
        ));
        let mut magic = good;
        magic[0] = b'X';
        assert!(matches!(
            PackFile::from_bytes(magic),
            Err(PackError::BadMagic)
        ));
    }
}
