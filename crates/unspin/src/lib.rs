//! unspin: undo article spinning.
//!
//! An article spinner swaps words and short phrases for "synonyms" so that a copied text passes as
//! new. unspin models that as a noisy channel, original → spinner → spun, and decodes the most
//! likely original: a back-off trigram language model scores fluency, an inverted thesaurus
//! (LibreOffice, WordNet and Moby, in both directions, with inflection) proposes originals, and a
//! channel model says how likely a spinner is to have made each substitution.
//!
//! The model lives in one memory-mapped [`Pack`]; a [`Restorer`] decodes texts with it.
//!
//! ```no_run
//! use unspin::{Pack, Restorer};
//! let pack = Pack::open("models/default.unspin".as_ref())?;
//! let r = Restorer::new(&pack).restore("Six Russian troopers who fled the warfare");
//! println!("{}", r.text);
//! for s in &r.spans {
//!     println!("{} → {} ({:.2})", s.spun, s.restored, s.confidence);
//! }
//! # Ok::<(), unspin::PackError>(())
//! ```
#![deny(missing_docs)]

pub mod build;
pub mod canon;
pub mod decode;
pub mod detect;
pub mod eval;
pub mod fingerprint;
pub mod index;
pub mod json;
pub mod learn;
pub mod lexicon;
pub mod lm;
mod model;
pub mod pack;
pub mod restore;
pub mod spin;
pub mod text;

pub use model::Pack;
pub use pack::PackError;
pub use restore::{Restoration, Restorer, Span};
