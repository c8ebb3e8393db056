//! The model's own tokenizer, rebuilt from the GGUF metadata.
//!
//! SmolLM2 uses GPT-2 style byte-level BPE (`tokenizer.ggml.model = "gpt2"`,
//! `tokenizer.ggml.pre = "smollm"`): every digit is split off on its own, then the GPT-2
//! pre-tokenizer regex splits words, numbers, punctuation and whitespace, bytes are mapped to the
//! printable byte-level alphabet (`Ġ` for a space) and the merges apply by rank. The `tokenizers`
//! crate provides each piece; here they are assembled in memory from `tokenizer.ggml.tokens` and
//! `tokenizer.ggml.merges`, so nothing is downloaded.
//!
//! Special tokens (`<|endoftext|>`, `<|im_start|>`, …) are not recognised inside the input: a
//! sentence that happens to contain their text is tokenised as plain text.

use candle_core::quantized::gguf_file::{Content, Value};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::Tokenizer;

/// Byte-level BPE over the GGUF vocabulary.
pub(crate) struct GgufTokenizer {
    inner: Tokenizer,
    vocab_size: usize,
}

fn strings<'a>(ct: &'a Content, key: &str) -> Result<Vec<&'a str>, String> {
    let value = ct
        .metadata
        .get(key)
        .ok_or_else(|| format!("missing metadata `{key}`"))?;
    let Value::Array(items) = value else {
        return Err(format!("metadata `{key}` is not an array"));
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.as_str()),
            _ => Err(format!("metadata `{key}` holds a non-string")),
        })
        .collect()
}

impl GgufTokenizer {
    /// Builds the tokenizer from `tokenizer.ggml.*` metadata.
    pub(crate) fn from_gguf(ct: &Content) -> Result<GgufTokenizer, String> {
        match ct.metadata.get("tokenizer.ggml.model") {
            Some(Value::String(m)) if m == "gpt2" => {}
            Some(Value::String(m)) => return Err(format!("unsupported tokenizer model `{m}`")),
            _ => return Err("missing metadata `tokenizer.ggml.model`".into()),
        }
        match ct.metadata.get("tokenizer.ggml.pre") {
            Some(Value::String(p)) if p == "smollm" => {}
            Some(Value::String(p)) => return Err(format!("unsupported pre-tokenizer `{p}`")),
            _ => return Err("missing metadata `tokenizer.ggml.pre`".into()),
        }
        let tokens = strings(ct, "tokenizer.ggml.tokens")?;
        let merges = strings(ct, "tokenizer.ggml.merges")?;
        let vocab: Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        if vocab.len() != tokens.len() {
            return Err("duplicate tokens in `tokenizer.ggml.tokens`".into());
        }
        let merges = merges
            .iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| format!("invalid merge `{m}`"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| format!("invalid vocabulary or merges: {e}"))?;
        let mut inner = Tokenizer::new(bpe);
        // As SmolLM2's tokenizer.json: Digits(individual_digits) then ByteLevel(no prefix space,
        // GPT-2 regex); no normaliser.
        inner.with_pre_tokenizer(Some(Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, true, true).into(),
        ])));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        Ok(GgufTokenizer {
            inner,
            vocab_size: tokens.len(),
        })
    }

    /// Number of tokens in the vocabulary.
    pub(crate) fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Token ids of `text`, with no special tokens added.
    pub(crate) fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| format!("cannot tokenize: {e}"))
    }

    /// The text of token ids (the inverse of [`GgufTokenizer::encode`]).
    pub(crate) fn decode(&self, ids: &[u32]) -> Result<String, String> {
        self.inner
            .decode(ids, false)
            .map_err(|e| format!("cannot detokenize: {e}"))
    }

    /// The id of a vocabulary entry (byte-level alphabet) or special token.
    pub(crate) fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The vocabulary entry of one id, in the byte-level alphabet (`Ġ` for a space).
    pub(crate) fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }
}
