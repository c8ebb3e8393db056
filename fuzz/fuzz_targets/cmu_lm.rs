//! `unspin::build::cmu::read_trie_lm` never panics, on the input as it is and, when the input is
//! a compact order-2/3 model (a trie LM without its 256-768 KiB of quantizer tables, see
//! `unspin_fuzz::expand_cmu`), on the input with the tables put back, so that mutations reach the
//! unigram records, the bit-packed tries and the vocabulary.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unspin::build::cmu::{read_trie_lm, read_trie_lm_with, Blanks};

fn check(bytes: &[u8]) {
    let keep = read_trie_lm(bytes);
    let drop = read_trie_lm_with(bytes, Blanks::Drop);
    if let (Ok(keep), Ok(drop)) = (&keep, &drop) {
        // Invariants the reader documents: ids in range, sorted output, blanks only removed.
        let n = keep.words.len() as u32;
        assert_eq!(keep.unigrams.len(), keep.words.len());
        assert!(keep.bigrams.iter().all(|b| b.0.iter().all(|&w| w < n)));
        assert!(keep.trigrams.iter().all(|t| t.0.iter().all(|&w| w < n)));
        assert!(keep.bigrams.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(keep.trigrams.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(drop.bigrams.len() <= keep.bigrams.len());
        let bits = |t: &Vec<([u32; 3], f32)>| t.iter().map(|&(k, p)| (k, p.to_bits())).collect::<Vec<_>>();
        assert_eq!(bits(&drop.trigrams), bits(&keep.trigrams));
        assert_eq!(drop.words, keep.words);
    } else {
        assert_eq!(keep.is_ok(), drop.is_ok(), "Keep and Drop disagree on whether the file is valid");
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(full) = unspin_fuzz::expand_cmu(data) {
        check(&full);
    }
});
