//! LSH band tables: per band, the (key, passage) pairs sorted by key, with a directory on the
//! key's top bits so that a lookup is one directory read and a short binary search.

/// Directory bits for a table whose largest band has `entries` entries: about 32 entries per
/// bucket (their fragments, 64 bytes, are one or two cache lines, and the directory stays a
/// sixteenth of the tables), between 4 and 20 bits — but at least [`KEYS_IMPLIED_FROM`] once
/// a band has 2^17 entries, so that tables of any size worth it need not store the full keys.
pub(crate) fn dir_bits(entries: usize) -> u32 {
    let per = (entries / 32).max(1);
    let bits = (usize::BITS - per.leading_zeros()).clamp(4, 20);
    if entries >= 1 << 17 {
        bits.max(KEYS_IMPLIED_FROM)
    } else {
        bits
    }
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

/// Directory bits from which the full keys are no longer stored (`lsh.keys`): the directory's
/// bits and the 16 bits of `lsh.frag` then hold all 32.
pub(crate) const KEYS_IMPLIED_FROM: u32 = 16;

/// The 16 key bits after the `bits` the directory resolves (zero-filled at the bottom when
/// fewer than 16 remain): what a lookup compares within a bucket.
#[inline]
pub(crate) fn frag(key: u32, bits: u32) -> u16 {
    ((key << bits) >> 16) as u16
}

/// Bytes a stored passage id takes in an index of `passages` passages: three below 2^24
/// (16.7 M passages, about 2.9 M documents), else four.
pub(crate) fn id_bytes(passages: u64) -> usize {
    if passages <= 1 << 24 {
        3
    } else {
        4
    }
}

/// Passage ids stored in [`id_bytes`] little-endian bytes each (`lsh.ids`).
#[derive(Clone, Copy)]
pub(crate) struct Ids<'a> {
    bytes: &'a [u8],
    width: usize,
}

impl<'a> Ids<'a> {
    /// Ids of `width` (3 or 4) bytes each; `None` when `bytes` is not a whole number of them.
    pub(crate) fn new(bytes: &'a [u8], width: usize) -> Option<Ids<'a>> {
        ((width == 3 || width == 4) && bytes.len().is_multiple_of(width))
            .then_some(Ids { bytes, width })
    }

    /// Number of ids.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len() / self.width
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Ids `range`, or `None` past the end.
    pub(crate) fn get_range(self, range: std::ops::Range<usize>) -> Option<Ids<'a>> {
        let all: &'a [u8] = self.bytes;
        let bytes = all.get(range.start * self.width..range.end * self.width)?;
        Some(Ids {
            bytes,
            width: self.width,
        })
    }

    /// The ids in order.
    pub(crate) fn iter(self) -> impl Iterator<Item = u32> + 'a {
        let width = self.width;
        let all: &'a [u8] = self.bytes;
        all.chunks_exact(width).map(move |b| {
            let mut w = [0u8; 4];
            w[..width].copy_from_slice(b);
            u32::from_le_bytes(w)
        })
    }

    /// The largest id (`None` when there are none). Three-byte ids are read four at a time
    /// from 12-byte blocks: the check every open makes over all of them.
    pub(crate) fn max(&self) -> Option<u32> {
        if self.is_empty() {
            return None;
        }
        if self.width == 4 {
            return self.iter().max();
        }
        let blocks = self.bytes.chunks_exact(12);
        let rest = Ids {
            bytes: blocks.remainder(),
            width: 3,
        };
        let mut m = rest.iter().max().unwrap_or(0);
        for c in blocks {
            let a = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
            let b = u32::from_le_bytes(c[8..].try_into().expect("4 bytes"));
            let four = [
                a as u32 & 0xff_ffff,
                (a >> 24) as u32 & 0xff_ffff,
                ((a >> 48) as u32 | b << 16) & 0xff_ffff,
                b >> 8,
            ];
            m = m.max(four[0].max(four[1]).max(four[2].max(four[3])));
        }
        Some(m)
    }

    /// No ids.
    pub(crate) fn empty() -> Ids<'a> {
        Ids {
            bytes: &[],
            width: 4,
        }
    }
}

/// Appends `ids` to `out` as [`Ids`] of `width` bytes each.
pub(crate) fn pack_ids(ids: impl Iterator<Item = u32>, width: usize, out: &mut Vec<u8>) {
    for id in ids {
        debug_assert!(width == 4 || id < 1 << 24, "passage id {id} needs 4 bytes");
        out.extend_from_slice(&id.to_le_bytes()[..width]);
    }
}

/// A read-only view of the tables inside a loaded index (checked on load).
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub off: &'a [u64],
    /// Full keys, stored only below [`KEYS_IMPLIED_FROM`] directory bits.
    pub keys: Option<&'a [u32]>,
    pub frag: &'a [u16],
    pub ids: Ids<'a>,
    pub dir: &'a [u32],
    pub bits: u32,
}

impl<'a> View<'a> {
    fn band_dir(&self, band: usize) -> &'a [u32] {
        let buckets = 1usize << self.bits;
        self.dir
            .get(band * (buckets + 1)..(band + 1) * (buckets + 1))
            .unwrap_or(&[])
    }

    /// Passages whose band `band` has key `key` (or, below 16 directory bits, a key that agrees
    /// with it on its top `bits` + 16 bits).
    pub(crate) fn lookup(&self, band: usize, key: u32) -> Ids<'a> {
        let (Some(&a), Some(&b)) = (self.off.get(band), self.off.get(band + 1)) else {
            return Ids::empty();
        };
        let (a, b) = (a as usize, b as usize);
        let dir = self.band_dir(band);
        let bucket = (key >> (32 - self.bits)) as usize;
        let (Some(&lo), Some(&hi)) = (dir.get(bucket), dir.get(bucket + 1)) else {
            return Ids::empty();
        };
        let (lo, hi) = (a + lo as usize, (a + hi as usize).min(b));
        let Some(frags) = self.frag.get(lo..hi) else {
            return Ids::empty();
        };
        let f = frag(key, self.bits);
        let s = frags.partition_point(|&k| k < f);
        let e = frags.partition_point(|&k| k <= f);
        self.ids
            .get_range(lo + s..lo + e)
            .unwrap_or_else(Ids::empty)
    }

    /// The full keys of band `band`, in order (stored, or made from the directory and the
    /// fragments).
    pub(crate) fn band_keys(&self, band: usize) -> Vec<u32> {
        let (s, e) = (self.off[band] as usize, self.off[band + 1] as usize);
        if let Some(keys) = self.keys {
            return keys[s..e].to_vec();
        }
        let dir = self.band_dir(band);
        let mut out = Vec::with_capacity(e - s);
        for (bucket, w) in dir.windows(2).enumerate() {
            let high = (bucket as u32) << (32 - self.bits);
            out.extend(
                self.frag[s + w[0] as usize..s + w[1] as usize]
                    .iter()
                    .map(|&f| high | ((f as u32) >> (self.bits - KEYS_IMPLIED_FROM))),
            );
        }
        out
    }

    /// Checks what lookups rely on: offsets in order and in range, every band's directory in
    /// order, its fragments sorted within each bucket (and equal to the stored keys', which are
    /// sorted, where those are stored), every passage id below `passages`.
    pub(crate) fn check(&self, bands: usize, passages: usize) -> Result<(), String> {
        let buckets = 1usize << self.bits;
        if self.off.len() != bands + 1 || self.off.first() != Some(&0) {
            return Err("lsh.off has the wrong length".into());
        }
        if self.off.windows(2).any(|w| w[0] > w[1])
            || self.off.last().copied() != Some(self.frag.len() as u64)
            || self.frag.len() != self.ids.len()
        {
            return Err("lsh.off is not a valid offset table".into());
        }
        match self.keys {
            Some(k) if k.len() != self.frag.len() => {
                return Err("lsh.keys has the wrong length".into())
            }
            None if self.bits < KEYS_IMPLIED_FROM => {
                return Err("lsh.keys is missing".into());
            }
            _ => {}
        }
        if self.dir.len() != bands * (buckets + 1) {
            return Err("lsh.dir has the wrong length".into());
        }
        if self.ids.max().is_some_and(|p| p as usize >= passages) {
            return Err("lsh.ids refers past the last passage".into());
        }
        for b in 0..bands {
            let (s, e) = (self.off[b] as usize, self.off[b + 1] as usize);
            let dir = self.band_dir(b);
            if dir.windows(2).any(|w| w[0] > w[1]) || dir[0] != 0 || dir[buckets] as usize != e - s
            {
                return Err(format!("band {b} has a bad directory"));
            }
            let frags = &self.frag[s..e];
            if let Some(keys) = self.keys {
                let keys = &keys[s..e];
                if keys.windows(2).any(|w| w[0] > w[1]) {
                    return Err(format!("band {b} is not sorted"));
                }
                for (bucket, w) in dir.windows(2).enumerate() {
                    let (lo, hi) = (w[0] as usize, w[1] as usize);
                    if keys[lo..hi].iter().zip(&frags[lo..hi]).any(|(&k, &f)| {
                        (k >> (32 - self.bits)) as usize != bucket || frag(k, self.bits) != f
                    }) {
                        return Err(format!("band {b}: lsh.frag does not match lsh.keys"));
                    }
                }
            } else {
                for w in dir.windows(2) {
                    if frags[w[0] as usize..w[1] as usize]
                        .windows(2)
                        .any(|p| p[0] > p[1])
                    {
                        return Err(format!("band {b} is not sorted"));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One band of `n` random entries (every seventh key the same), sorted, as the writer
    /// stores it: entries, fragments, directory.
    fn band(n: usize, seed: u64) -> (Vec<u64>, Vec<u16>, Vec<u32>, u32) {
        let mut x = seed | 1;
        let mut entries: Vec<u64> = (0..n)
            .map(|p| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k = if p % 7 == 0 { 0xdead_beef } else { x as u32 };
                (k as u64) << 32 | p as u64
            })
            .collect();
        entries.sort_unstable();
        let mut dir = Dir::new(1, n);
        let bits = dir.bits;
        let frags = entries
            .iter()
            .map(|&e| {
                dir.push(e);
                frag((e >> 32) as u32, bits)
            })
            .collect();
        dir.end_band();
        (entries, frags, dir.finish(), bits)
    }

    #[test]
    fn ids_take_three_bytes_up_to_two_to_the_24_passages_and_four_beyond() {
        assert_eq!(id_bytes(0), 3);
        assert_eq!(id_bytes(1 << 24), 3);
        assert_eq!(id_bytes((1 << 24) + 1), 4);
        let ids = [0u32, 1, 0xff_ffff, 0x0100_0000, u32::MAX - 1];
        let mut four = Vec::new();
        pack_ids(ids.iter().copied(), 4, &mut four);
        let v = Ids::new(&four, 4).unwrap();
        assert_eq!(v.len(), 5);
        assert!(v.iter().eq(ids.iter().copied()));
        let mid: Vec<u32> = v.get_range(1..3).unwrap().iter().collect();
        assert_eq!(mid, [1, 0xff_ffff]);
        assert!(v.get_range(4..6).is_none());
        let mut three = Vec::new();
        pack_ids(ids[..3].iter().copied(), 3, &mut three);
        assert_eq!(three.len(), 9);
        assert!(Ids::new(&three, 3)
            .unwrap()
            .iter()
            .eq(ids[..3].iter().copied()));
        assert!(Ids::new(&three[..8], 3).is_none());
        // The largest id, whole 12-byte blocks and the rest alike.
        for n in [0, 1, 3, 4, 5, 8, 9, 13] {
            let ids: Vec<u32> = (0..n as u32)
                .map(|i| i.wrapping_mul(2_654_435_761) >> 8)
                .collect();
            let mut b = Vec::new();
            pack_ids(ids.iter().copied(), 3, &mut b);
            assert_eq!(
                Ids::new(&b, 3).unwrap().max(),
                ids.iter().copied().max(),
                "{n}"
            );
        }
        assert_eq!(v.max(), Some(u32::MAX - 1));
        assert!(Ids::new(&three, 2).is_none());
    }

    #[test]
    fn fragments_find_every_key_and_imply_the_keys_of_large_tables() {
        // 40 k entries: 11 directory bits, keys stored; 200 k: 16 bits, keys implied; 2.1 M: 17.
        for (n, seed) in [(40_000, 3), (200_000, 5), (2_100_000, 7)] {
            let (entries, frag, dir, bits) = band(n, seed);
            let keys: Vec<u32> = entries.iter().map(|&e| (e >> 32) as u32).collect();
            let ids: Vec<u32> = entries.iter().map(|&e| e as u32).collect();
            let mut packed = Vec::new();
            pack_ids(ids.iter().copied(), 3, &mut packed);
            let off = [0, n as u64];
            let stored = bits < KEYS_IMPLIED_FROM;
            let v = View {
                off: &off,
                keys: stored.then_some(keys.as_slice()),
                frag: &frag,
                ids: Ids::new(&packed, 3).unwrap(),
                dir: &dir,
                bits,
            };
            assert!(v.ids.iter().eq(ids.iter().copied()));
            assert_eq!(stored, n == 40_000, "{bits} bits");
            assert_eq!(
                bits,
                [11, 16, 17][[40_000, 200_000, 2_100_000]
                    .iter()
                    .position(|&m| m == n)
                    .unwrap()]
            );
            v.check(1, n).unwrap();
            assert_eq!(v.band_keys(0), keys);
            for (i, &k) in keys.iter().enumerate().step_by(97) {
                let hits = v.lookup(0, k);
                assert!(hits.iter().any(|p| p == ids[i]), "key {k:08x}");
                let same = keys.iter().filter(|&&x| x == k).count();
                assert_eq!(hits.len(), same, "key {k:08x}");
            }
            assert_eq!(v.lookup(0, 0xdead_beef).len(), n.div_ceil(7));
            // Without the stored keys, a small table cannot be read.
            if stored {
                assert!(View { keys: None, ..v }.check(1, n).is_err());
            }
            // Two fragments of a bucket out of order are refused.
            let mut swapped = frag.clone();
            let j = (1..n)
                .find(|&j| {
                    swapped[j - 1] < swapped[j]
                        && keys[j - 1] >> (32 - bits) == keys[j] >> (32 - bits)
                })
                .unwrap();
            swapped.swap(j - 1, j);
            assert!(View {
                frag: &swapped,
                ..v
            }
            .check(1, n)
            .is_err());
        }
    }
}
