//! LSH band tables: per band, the (key, passage) pairs sorted by key, with a directory on the
//! key's top bits so that a lookup is one directory read and a short binary search.

/// Directory bits for a table whose largest band has `entries` entries: about eight entries per
/// bucket, between 4 and 20 bits.
pub(crate) fn dir_bits(entries: usize) -> u32 {
    let per = (entries / 8).max(1);
    (usize::BITS - per.leading_zeros()).clamp(4, 20)
}

/// Sorts a band's entries and drops duplicates (a passage whose band key came out twice).
pub(crate) fn sort_band(band: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    sort_entries(band, scratch);
    band.dedup();
}

/// Builds the directory of sorted bands handed to it entry by entry, band after band.
pub(crate) struct Dir {
    pub bits: u32,
    dir: Vec<u32>,
    /// Next bucket to open in the current band, and entries seen in it.
    bucket: usize,
    at: u32,
}

impl Dir {
    /// A directory for `bands` bands, the largest of which has `largest` entries.
    pub(crate) fn new(bands: usize, largest: usize) -> Dir {
        let bits = dir_bits(largest);
        Dir {
            bits,
            dir: Vec::with_capacity(bands * ((1usize << bits) + 1)),
            bucket: 0,
            at: 0,
        }
    }

    /// The next entry of the current band (entries in order).
    #[inline]
    pub(crate) fn push(&mut self, e: u64) {
        let bucket = (e >> (64 - self.bits)) as usize;
        while self.bucket <= bucket {
            self.dir.push(self.at);
            self.bucket += 1;
        }
        self.at += 1;
    }

    /// Closes the current band.
    pub(crate) fn end_band(&mut self) {
        while self.bucket <= 1usize << self.bits {
            self.dir.push(self.at);
            self.bucket += 1;
        }
        self.bucket = 0;
        self.at = 0;
    }

    pub(crate) fn finish(self) -> Vec<u32> {
        self.dir
    }
}

/// Sorts a band's entries as `sort_unstable` would. Entries are added in passage order, so a
/// stable sort on the key alone (an LSD radix sort of the top 32 bits in three passes, 4–5×
/// faster than a comparison sort) already orders equal keys by passage; a check confirms it,
/// and any other input is sorted in full.
pub(crate) fn sort_entries(v: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    const DIGITS: [(u32, u32); 3] = [(32, 11), (43, 11), (54, 10)];
    if v.len() < 256 {
        v.sort_unstable();
        return;
    }
    let mut counts = [[0usize; 1 << 11]; 3];
    for &e in v.iter() {
        for (c, &(shift, width)) in counts.iter_mut().zip(&DIGITS) {
            c[((e >> shift) & ((1 << width) - 1)) as usize] += 1;
        }
    }
    scratch.clear();
    scratch.resize(v.len(), 0);
    let (mut from, mut to) = (std::mem::take(v), std::mem::take(scratch));
    for (c, &(shift, width)) in counts.iter_mut().zip(&DIGITS) {
        let mut at = 0;
        for n in c.iter_mut() {
            let k = *n;
            *n = at;
            at += k;
        }
        for &e in &from {
            let d = ((e >> shift) & ((1 << width) - 1)) as usize;
            to[c[d]] = e;
            c[d] += 1;
        }
        std::mem::swap(&mut from, &mut to);
    }
    *v = from;
    *scratch = to;
    if !v.is_sorted() {
        v.sort_unstable();
    }
}

/// A read-only view of the tables inside a loaded index (checked on load).
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub off: &'a [u64],
    pub keys: &'a [u32],
    pub ids: &'a [u32],
    pub dir: &'a [u32],
    pub bits: u32,
}

impl<'a> View<'a> {
    /// Passages whose band `band` has key `key`.
    pub(crate) fn lookup(&self, band: usize, key: u32) -> &'a [u32] {
        let buckets = 1usize << self.bits;
        let (Some(&a), Some(&b)) = (self.off.get(band), self.off.get(band + 1)) else {
            return &[];
        };
        let (a, b) = (a as usize, b as usize);
        let dir = self
            .dir
            .get(band * (buckets + 1)..(band + 1) * (buckets + 1))
            .unwrap_or(&[]);
        let bucket = (key >> (32 - self.bits)) as usize;
        let (Some(&lo), Some(&hi)) = (dir.get(bucket), dir.get(bucket + 1)) else {
            return &[];
        };
        let (lo, hi) = (a + lo as usize, (a + hi as usize).min(b));
        let Some(keys) = self.keys.get(lo..hi) else {
            return &[];
        };
        let s = keys.partition_point(|&k| k < key);
        let e = keys.partition_point(|&k| k <= key);
        self.ids.get(lo + s..lo + e).unwrap_or(&[])
    }

    /// Checks what lookups rely on: offsets in order and in range, every band's keys sorted and
    /// its directory in order, every passage id below `passages`.
    pub(crate) fn check(&self, bands: usize, passages: usize) -> Result<(), String> {
        let buckets = 1usize << self.bits;
        if self.off.len() != bands + 1 || self.off.first() != Some(&0) {
            return Err("lsh.off has the wrong length".into());
        }
        if self.off.windows(2).any(|w| w[0] > w[1])
            || self.off.last().copied() != Some(self.keys.len() as u64)
            || self.keys.len() != self.ids.len()
        {
            return Err("lsh.off is not a valid offset table".into());
        }
        if self.dir.len() != bands * (buckets + 1) {
            return Err("lsh.dir has the wrong length".into());
        }
        if self.ids.iter().any(|&p| p as usize >= passages) {
            return Err("lsh.ids refers past the last passage".into());
        }
        for b in 0..bands {
            let (s, e) = (self.off[b] as usize, self.off[b + 1] as usize);
            let keys = &self.keys[s..e];
            if keys.windows(2).any(|w| w[0] > w[1]) {
                return Err(format!("band {b} is not sorted"));
            }
            let dir = &self.dir[b * (buckets + 1)..(b + 1) * (buckets + 1)];
            if dir.windows(2).any(|w| w[0] > w[1]) || dir[buckets] as usize != keys.len() {
                return Err(format!("band {b} has a bad directory"));
            }
        }
        Ok(())
    }
}
