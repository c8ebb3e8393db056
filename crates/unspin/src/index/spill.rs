//! What an [`IndexBuilder`](super::IndexBuilder) keeps on disk when a build does not fit its
//! memory budget: document ids and texts appended to anonymous temporary files, and the band
//! entries written as sorted runs that [`merge`] joins when the index is written.
//!
//! Invariant: runs hold consecutive passage numbers (every passage of run *i* is below every
//! passage of run *i* + 1), so the entries of a band, merged by value, come out in the order the
//! in-memory sort gives — a spilled build writes the same bytes as one that fits in memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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
#[derive(Default)]
pub(crate) struct Spool {
    pub buf: Vec<u8>,
    file: Option<(File, PathBuf)>,
    spilled: u64,
}

impl Spool {
    pub(crate) fn from_vec(buf: Vec<u8>) -> Spool {
        Spool {
            buf,
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
            let f = tempfile::tempfile_in(dir).map_err(io(dir))?;
            self.file = Some((f, dir.to_path_buf()));
        }
        let (f, d) = self.file.as_mut().expect("just set");
        f.write_all(&self.buf).map_err(io(d))?;
        self.spilled += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Hands every byte, in order, to `sink`.
    pub(crate) fn drain(
        &mut self,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), IndexError>,
    ) -> Result<(), IndexError> {
        if let Some((f, d)) = self.file.as_mut() {
            f.seek(SeekFrom::Start(0)).map_err(io(d))?;
            let mut r = f.take(self.spilled);
            let mut chunk = vec![0u8; 1 << 20];
            loop {
                let n = r.read(&mut chunk).map_err(io(d))?;
                if n == 0 {
                    break;
                }
                sink(&chunk[..n])?;
            }
        }
        sink(&self.buf)
    }
}

/// One sorted run: every band's entries in turn, sorted and without duplicates.
pub(crate) struct Run {
    file: File,
    dir: PathBuf,
    /// Entries of each band.
    pub lens: Vec<u64>,
}

impl Run {
    /// Writes `bands` (each already sorted and deduplicated) as a run.
    pub(crate) fn write<'a>(
        dir: &Path,
        bands: impl Iterator<Item = &'a [u64]>,
    ) -> Result<Run, IndexError> {
        Run::write_iter(dir, bands.map(|b| b.iter().copied()))
    }

    /// [`Run::write`] from iterators over each band's entries.
    pub(crate) fn write_iter(
        dir: &Path,
        bands: impl Iterator<Item = impl Iterator<Item = u64>>,
    ) -> Result<Run, IndexError> {
        let file = tempfile::tempfile_in(dir).map_err(io(dir))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let mut lens = Vec::new();
        for band in bands {
            let mut n = 0u64;
            for e in band {
                w.write_all(&e.to_le_bytes()).map_err(io(dir))?;
                n += 1;
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

    fn reader(&mut self) -> Result<RunReader<'_>, IndexError> {
        self.file.seek(SeekFrom::Start(0)).map_err(io(&self.dir))?;
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

impl RunReader<'_> {
    fn next(&mut self) -> Result<u64, IndexError> {
        let mut b = [0u8; 8];
        self.r.read_exact(&mut b).map_err(io(self.dir))?;
        Ok(u64::from_le_bytes(b))
    }
}

/// Merges, band by band, the runs and the last run still in memory (`tail`, sorted), handing
/// each band's entries in order to `each(band, entry)`.
pub(crate) fn merge(
    runs: &mut [Run],
    tail: &[Vec<u64>],
    mut each: impl FnMut(usize, u64) -> Result<(), IndexError>,
) -> Result<(), IndexError> {
    if runs.is_empty() {
        for (band, entries) in tail.iter().enumerate() {
            for &e in entries {
                each(band, e)?;
            }
        }
        return Ok(());
    }
    let lens: Vec<Vec<u64>> = runs.iter().map(|r| r.lens.clone()).collect();
    let mut readers = runs
        .iter_mut()
        .map(Run::reader)
        .collect::<Result<Vec<_>, _>>()?;
    let mut heap = BinaryHeap::new();
    for (band, tail) in tail.iter().enumerate() {
        // Entries left in this band: per run, and in the tail.
        let mut left: Vec<u64> = lens.iter().map(|l| l[band]).collect();
        let mut t = 0usize;
        heap.clear();
        for (i, r) in readers.iter_mut().enumerate() {
            if left[i] > 0 {
                left[i] -= 1;
                heap.push(Reverse((r.next()?, i)));
            }
        }
        if let Some(&e) = tail.first() {
            t = 1;
            heap.push(Reverse((e, usize::MAX)));
        }
        while let Some(Reverse((e, i))) = heap.pop() {
            each(band, e)?;
            if i == usize::MAX {
                if let Some(&e) = tail.get(t) {
                    t += 1;
                    heap.push(Reverse((e, i)));
                }
            } else if left[i] > 0 {
                left[i] -= 1;
                heap.push(Reverse((readers[i].next()?, i)));
            }
        }
    }
    Ok(())
}
