//! What an [`IndexBuilder`](super::IndexBuilder) keeps on disk when a build does not fit its
//! memory budget: document ids and texts appended to anonymous temporary files, and the band
//! entries written as runs that [`merge`] sorts, band by band, when the index is written.
//!
//! Invariant: runs hold consecutive passage numbers (every passage of run *i* is below every
//! passage of run *i* + 1), and within a band a run's entries are in passage order or sorted
//! (an existing index's tables, the first run of `index add`). A band's entries from all runs,
//! in run order, sorted by key with a stable sort, therefore come out in the order the
//! in-memory sort gives — a spilled build writes the same bytes as one that fits in memory.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::store::{as_bytes, as_bytes_mut};
use super::IndexError;

/// Where spilled data goes, and how much the builder may hold in memory.
#[derive(Clone, Debug)]
pub(crate) struct Budget {
    /// Directory of the temporary files (deleted when the builder is dropped, or by the system
    /// if the process dies).
    pub dir: PathBuf,
    /// Bytes of text and band entries held in memory before a spill.
    pub bytes: usize,
}

fn io(dir: &Path) -> impl Fn(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: dir.to_path_buf(),
        source,
    }
}

/// A byte sequence (ids or texts) kept in memory, with what did not fit appended to a file.
///
/// A spool made by [`Spool::section_of_index`] spills into the index file itself: its file is
/// named (in the spill directory, deleted unless the index writer adopts it), starts with room
/// for the container's header, and keeps a CRC of its bytes, so that the section it holds
/// never has to be copied (see [`Spool::take_section`]).
#[derive(Default)]
pub(crate) struct Spool {
    pub buf: Vec<u8>,
    file: Option<SpoolFile>,
    spilled: u64,
    /// Bytes reserved before the spilled ones (a named spool's container header).
    head: Option<u64>,
    crc: crc32fast::Hasher,
}

enum SpoolFile {
    Anonymous(File, PathBuf),
    Named(tempfile::NamedTempFile),
}

impl SpoolFile {
    fn file(&mut self) -> &mut File {
        match self {
            SpoolFile::Anonymous(f, _) => f,
            SpoolFile::Named(f) => f.as_file_mut(),
        }
    }

    fn path(&self) -> &Path {
        match self {
            SpoolFile::Anonymous(_, d) => d,
            SpoolFile::Named(f) => f.path(),
        }
    }
}

/// A section already written in place by a [`Spool::section_of_index`]: the file (its first
/// `off` bytes reserved for the header), where the section starts, its length and its CRC.
pub(crate) struct SpooledSection {
    pub file: tempfile::NamedTempFile,
    pub off: u64,
    pub len: u64,
    pub crc: u32,
}

impl Spool {
    pub(crate) fn from_vec(buf: Vec<u8>) -> Spool {
        Spool {
            buf,
            ..Spool::default()
        }
    }

    /// A spool whose file, once it spills, is the index file to be: `head` bytes reserved for
    /// the container's header, then the spool's bytes as the first section.
    pub(crate) fn section_of_index(head: u64) -> Spool {
        Spool {
            head: Some(head),
            ..Spool::default()
        }
    }

    /// Bytes in all.
    pub(crate) fn len(&self) -> u64 {
        self.spilled + self.buf.len() as u64
    }

    /// Moves the in-memory bytes to the file.
    pub(crate) fn spill(&mut self, dir: &Path) -> Result<(), IndexError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(match self.head {
                None => {
                    let f = tempfile::tempfile_in(dir).map_err(io(dir))?;
                    SpoolFile::Anonymous(f, dir.to_path_buf())
                }
                Some(head) => {
                    let mut b = tempfile::Builder::new();
                    b.prefix(".unspin-index-");
                    // Readable as a file the program created would be (the umask applies).
                    #[cfg(unix)]
                    b.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
                    let mut f = b.tempfile_in(dir).map_err(io(dir))?;
                    f.as_file_mut()
                        .write_all(&vec![0u8; head as usize])
                        .map_err(io(dir))?;
                    SpoolFile::Named(f)
                }
            });
        }
        let f = self.file.as_mut().expect("just set");
        let path = f.path().to_path_buf();
        f.file().write_all(&self.buf).map_err(io(&path))?;
        if self.head.is_some() {
            self.crc.update(&self.buf);
        }
        self.spilled += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// For a spool made by [`Spool::section_of_index`] that has spilled: every byte moved to
    /// its file, and the file handed over as the index file with the section in place.
    /// `None` (and the spool unchanged) otherwise.
    pub(crate) fn take_section(
        &mut self,
        dir: &Path,
    ) -> Result<Option<SpooledSection>, IndexError> {
        let (Some(head), Some(SpoolFile::Named(_))) = (self.head, &self.file) else {
            return Ok(None);
        };
        self.spill(dir)?;
        let Some(SpoolFile::Named(file)) = self.file.take() else {
            unreachable!("checked above");
        };
        let crc = std::mem::take(&mut self.crc).finalize();
        let len = std::mem::take(&mut self.spilled);
        Ok(Some(SpooledSection {
            file,
            off: head,
            len,
            crc,
        }))
    }

    /// Hands every byte, in order, to `sink`.
    pub(crate) fn drain(
        &mut self,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), IndexError>,
    ) -> Result<(), IndexError> {
        if let Some(f) = self.file.as_mut() {
            let d = f.path().to_path_buf();
            let file = f.file();
            file.seek(SeekFrom::Start(self.head.unwrap_or(0)))
                .map_err(io(&d))?;
            let mut r = file.take(self.spilled);
            let mut chunk = vec![0u8; 1 << 20];
            loop {
                let n = r.read(&mut chunk).map_err(io(&d))?;
                if n == 0 {
                    break;
                }
                sink(&chunk[..n])?;
            }
            // Where the next spill appends.
            r.into_inner().seek(SeekFrom::End(0)).map_err(io(&d))?;
        }
        sink(&self.buf)
    }
}

/// One run: every band's entries in turn.
pub(crate) struct Run {
    file: File,
    dir: PathBuf,
    /// Entries of each band.
    pub lens: Vec<u64>,
}

impl Run {
    /// Writes `bands` as a run.
    pub(crate) fn write<'a>(
        dir: &Path,
        bands: impl Iterator<Item = &'a [u64]>,
    ) -> Result<Run, IndexError> {
        Run::write_blocks(dir, bands.map(|b| b.chunks(1 << 16).map(Cow::Borrowed)))
    }

    /// [`Run::write`] from iterators over each band's entries.
    pub(crate) fn write_iter(
        dir: &Path,
        bands: impl Iterator<Item = impl Iterator<Item = u64>>,
    ) -> Result<Run, IndexError> {
        Run::write_blocks(
            dir,
            bands.map(|mut b| {
                std::iter::from_fn(move || {
                    let block: Vec<u64> = b.by_ref().take(1 << 16).collect();
                    (!block.is_empty()).then_some(Cow::Owned(block))
                })
            }),
        )
    }

    fn write_blocks<'a>(
        dir: &Path,
        bands: impl Iterator<Item = impl Iterator<Item = Cow<'a, [u64]>>>,
    ) -> Result<Run, IndexError> {
        let file = tempfile::tempfile_in(dir).map_err(io(dir))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let mut lens = Vec::new();
        for band in bands {
            let mut n = 0u64;
            for block in band {
                w.write_all(as_bytes(&block)).map_err(io(dir))?;
                n += block.len() as u64;
            }
            lens.push(n);
        }
        let file = w.into_inner().map_err(|e| io(dir)(e.into_error()))?;
        Ok(Run {
            file,
            dir: dir.to_path_buf(),
            lens,
        })
    }

    fn reader(&self) -> Result<RunReader<'_>, IndexError> {
        (&self.file)
            .seek(SeekFrom::Start(0))
            .map_err(io(&self.dir))?;
        Ok(RunReader {
            r: BufReader::with_capacity(1 << 16, &self.file),
            dir: &self.dir,
        })
    }
}

struct RunReader<'a> {
    r: BufReader<&'a File>,
    dir: &'a Path,
}

/// Merges, band by band, the runs and the entries still in memory (`tail`, one vector per
/// band, in passage order), handing each band's sorted entries to `each(band, entries)`.
///
/// A band's entries from every run are read into memory and sorted by key with a stable sort
/// (see the module's invariant). Memory: one band's entries (a 48th of all) and its sort
/// buffer.
///
/// # Errors
/// [`IndexError::Io`] reading a run; [`IndexError::Malformed`] for an entry that occurs twice
/// (impossible unless an index being added to holds one), since the band sizes were counted
/// before.
pub(crate) fn merge(
    runs: &[Run],
    tail: &mut [Vec<u64>],
    mut each: impl FnMut(usize, &[u64]) -> Result<(), IndexError>,
) -> Result<(), IndexError> {
    if runs.is_empty() {
        for (band, entries) in tail.iter().enumerate() {
            each(band, entries)?;
        }
        return Ok(());
    }
    let mut readers = runs
        .iter()
        .map(Run::reader)
        .collect::<Result<Vec<_>, _>>()?;
    let (mut all, mut scratch) = (Vec::new(), Vec::new());
    for (band, tail) in tail.iter_mut().enumerate() {
        all.clear();
        for (r, run) in readers.iter_mut().zip(runs) {
            let (at, n) = (all.len(), run.lens[band] as usize);
            all.resize(at + n, 0);
            r.r.read_exact(as_bytes_mut(&mut all[at..]))
                .map_err(io(r.dir))?;
        }
        all.append(tail);
        // Its reservation is no longer needed.
        *tail = Vec::new();
        super::lsh::sort_entries(&mut all, &mut scratch);
        if all.windows(2).any(|w| w[0] == w[1]) {
            return Err(IndexError::Malformed(format!(
                "a passage appears twice in band {band}"
            )));
        }
        each(band, &all)?;
    }
    Ok(())
}
