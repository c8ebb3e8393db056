//! Command-line flags, parsed by clap and validated in `cmd`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

/// Undo article spinning: restore spun text to its likely original wording.
#[derive(Parser, Debug)]
#[command(
    name = "unspin",
    version,
    about = "Undo article spinning: restore spun text to its likely original wording",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Restore a spun text to its most likely original wording.
    Restore(RestoreArgs),
    /// Score texts for being spun and show the evidence (exit 0 if any is flagged, 1 if none).
    Detect(DetectArgs),
    /// Score every record of many files (text, JSONL, WARC/WET, PDF; gzip or not) in parallel:
    /// one JSON line per record, a progress bar, an HTML report, resumable.
    Scan(ScanArgs),
    /// Build, extend and inspect indexes of documents for `unspin trace`.
    #[command(subcommand)]
    Index(crate::trace::IndexCommand),
    /// Find the sources of a spun text in an index, each verified by a word alignment.
    Trace(crate::trace::TraceArgs),
    /// Import and inspect tortured-phrase fingerprint lists (Problematic Paper Screener).
    #[command(subcommand)]
    Fingerprints(FingerprintsCommand),
    /// Spin a text with the reference spinner (for making labelled data).
    Spin(SpinArgs),
    /// Learn a spinner's dictionary from spun/original pairs (JSONL records {"spun", "original"}).
    Learn(LearnArgs),
    /// Inspect and merge spinner profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Serve the HTTP API (restore, detect, trace) and the web page where people see what was
    /// spun; stops gracefully on SIGTERM or Ctrl-C.
    Serve(ServeArgs),
    /// Build or inspect model packs.
    #[command(subcommand)]
    Pack(PackCommand),
    /// Measure restoration quality.
    #[command(subcommand)]
    Eval(EvalCommand),
}

/// Where the model pack comes from.
#[derive(Args, Debug, Clone)]
pub struct PackArg {
    /// Model pack to use [default: $UNSPIN_PACK, else models/default.unspin].
    #[arg(long, env = "UNSPIN_PACK", value_name = "FILE")]
    pub pack: Option<PathBuf>,
}

/// How input bytes become text.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Replace invalid UTF-8 with U+FFFD instead of failing.
    #[arg(long)]
    pub lossy: bool,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// Input file, or - for standard input.
    #[arg(default_value = "-")]
    pub input: PathBuf,
    #[command(flatten)]
    pub pack: PackArg,
    #[command(flatten)]
    pub input_args: InputArgs,
    /// Print JSON: {"text", "spans": [{"start","end","spun","restored","confidence","alternatives"}]}.
    #[arg(long, conflicts_with = "diff")]
    pub json: bool,
    /// Show an inline diff of spun and restored words (coloured on a terminal).
    #[arg(long)]
    pub diff: bool,
    /// When to colour --diff output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub fingerprints: FingerprintArgs,
    #[command(flatten)]
    pub profile: ProfileArg,
    /// Thesauri whose relations may be walked back (comma-separated: mythes,wordnet,moby,weak).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub thesauri: Option<Vec<String>>,
    #[command(flatten)]
    pub precise: PreciseArgs,
}

/// Precise mode: a neural model that reads whole sentences.
#[derive(Args, Debug, Clone)]
pub struct PreciseArgs {
    /// Revisit the trigram's choices with the SmolLM2-135M sentence model (needs a build with
    /// `--features precise` and the model from scripts/fetch-neural.sh).
    #[arg(long)]
    pub precise: bool,
    /// The GGUF model for --precise [default: $UNSPIN_NEURAL_MODEL, else target/models/…].
    #[arg(long, value_name = "FILE")]
    pub neural_model: Option<PathBuf>,
    /// Compute the sentence model's products in f32 throughout, as candle's own model does (by
    /// default its linear layers multiply in 8 bits on CPUs with AVX-512 VNNI: ~3x faster).
    #[arg(long, requires = "precise")]
    pub neural_exact: bool,
}

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Input files, or - for standard input.
    #[arg(default_value = "-")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub input_args: InputArgs,
    /// Print one JSON object per input: {"path", "score", "flagged", "spans", "paragraphs", …}.
    #[arg(long)]
    pub json: bool,
    /// Evidence spans shown per input in the human summary.
    #[arg(long, default_value_t = 8)]
    pub top: usize,
    /// When to colour the human summary.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Screen with the fingerprint list alone, skipping the model (full speed).
    #[arg(long, conflicts_with = "no_fingerprints")]
    pub fingerprints_only: bool,
    #[command(flatten)]
    pub precise: PreciseArgs,
}

/// The model and fingerprint flags that detect, scan and serve share.
#[derive(Args, Debug)]
pub struct ScoringArgs {
    #[command(flatten)]
    pub pack: PackArg,
    /// Score at or above which a text is flagged as spun.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// Texts whose language-model screening score is below this skip the full analysis: they
    /// get the screening score and no evidence spans (0 analyses every text fully).
    #[arg(long, value_name = "SCORE")]
    pub screen_below: Option<f32>,
    #[command(flatten)]
    pub fingerprints: FingerprintArgs,
    #[command(flatten)]
    pub profile: ProfileArg,
    /// Thesauri whose relations may be walked back (comma-separated: mythes,wordnet,moby,weak).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub thesauri: Option<Vec<String>>,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Input files, directories (read recursively) and glob patterns; - for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Write one JSON line per input record here (default: standard output): {"id", "score",
    /// "flagged", "spans", "fingerprints", "paragraphs", …, "source"} or {"id", "error",
    /// "source"}.
    #[arg(short, long, value_name = "OUT.jsonl")]
    pub output: Option<PathBuf>,
    /// Continue an interrupted run: keep the complete records already in --output, drop a torn
    /// last line, and go on after the last record written.
    #[arg(long, requires = "output")]
    pub resume: bool,
    /// Also write a self-contained HTML report: score histogram, most flagged documents with
    /// their spans, most frequent substitutions, fingerprint hits by phrase.
    #[arg(long, value_name = "report.html")]
    pub report: Option<PathBuf>,
    /// Documents shown in the report.
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub report_top: usize,
    #[command(flatten)]
    pub records: RecordArgs,
    /// Largest record read, in bytes; a larger one is an error record [default: 4 MiB with the
    /// model, whose memory grows with the document, 64 MiB with --fingerprints-only].
    #[arg(long, value_name = "BYTES")]
    pub max_record_bytes: Option<usize>,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Screen with the fingerprint list alone, skipping the model (full speed).
    #[arg(long, conflicts_with_all = ["no_fingerprints", "precise"])]
    pub fingerprints_only: bool,
    /// Precise mode: each worker scores with its own sentence model (slow: ~8 s per 1,000 words
    /// with 8-bit products, ~28 s with f32 ones; ~0.5 or ~0.8 GB per worker).
    #[command(flatten)]
    pub precise: PreciseArgs,
}

/// Which records to read and on how many threads: `unspin scan`, `unspin index build|add`.
#[derive(Args, Debug, Clone)]
pub struct RecordArgs {
    /// Read every input in this format (text, jsonl, warc, pdf) instead of telling it from each
    /// file's extension.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// JSONL: the field that holds the text.
    #[arg(long, default_value = "text", value_name = "NAME")]
    pub field: String,
    /// JSONL: the field that holds the record's id (without it the id is path:line).
    #[arg(long, default_value = "id", value_name = "NAME")]
    pub id_field: String,
    /// Worker threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// When to draw the progress line on stderr (auto: when stderr is a terminal).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub progress: ColorChoice,
}

impl RecordArgs {
    /// The reader's options.
    pub fn options(&self) -> anyhow::Result<unspin_io::InputOptions> {
        let mut o = unspin_io::InputOptions::default();
        if let Some(f) = &self.format {
            o.format = Some(f.parse::<unspin_io::Format>().context("--format")?);
        }
        o.field = self.field.clone();
        o.id_field = self.id_field.clone();
        Ok(o)
    }

    /// Worker threads: `-j`, else every core.
    pub fn jobs(&self) -> anyhow::Result<usize> {
        match self.jobs {
            Some(0) => anyhow::bail!("-j must be at least 1"),
            Some(n) => Ok(n),
            None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        }
    }

    /// Whether to draw progress on stderr.
    pub fn progress_on(&self) -> bool {
        match self.progress {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0: a free port; the address is printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: std::net::SocketAddr,
    /// An index from `unspin index build`: serves POST /v1/trace.
    #[arg(long, value_name = "INDEX")]
    pub index: Option<PathBuf>,
    /// The model and list (requests may name their own threshold).
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Largest request body in bytes; a larger one is answered 413.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_body: usize,
    /// Seconds a request may take, waiting for a free worker included; then 503.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Analyses run at once; further requests wait within their timeout [default: all cores].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Precise mode: load the sentence model; requests use it unless they say
    /// `"precise": false`.
    #[command(flatten)]
    pub precise: PreciseArgs,
    /// Sentence models loaded for --precise (each ~0.5 GB): precise analyses that run at once.
    #[arg(long, default_value_t = 1, value_name = "N", requires = "precise")]
    pub precise_workers: usize,
}

/// Which fingerprint list to consult.
#[derive(Args, Debug, Clone)]
pub struct FingerprintArgs {
    /// Fingerprint list to use: a list saved by `unspin fingerprints import`, or a PPS CSV
    /// [default: the installed list, if any].
    #[arg(long, value_name = "FILE", conflicts_with = "no_fingerprints")]
    pub fingerprints: Option<PathBuf>,
    /// Consult no fingerprint list.
    #[arg(long)]
    pub no_fingerprints: bool,
}

#[derive(Args, Debug)]
pub struct LearnArgs {
    /// JSONL file(s) of {"spun", "original"} records, or what `unspin trace --json` printed
    /// (each query's best match's alignment is a pair) (- for standard input); with
    /// --unpaired, the spinner's texts (files, directories, globs: text, JSONL, WARC/WET, PDF).
    #[arg(required = true)]
    pub pairs: Vec<PathBuf>,
    /// Where to write the profile (required for pairs; with --unpaired, the proposals as a
    /// profile).
    #[arg(short, long, value_name = "PROFILE")]
    pub output: Option<PathBuf>,
    /// Find the spinner's signature substitutions from its output alone: substitutions the
    /// restorer undoes in several documents, printed with counts and example contexts.
    #[arg(long)]
    pub unpaired: bool,
    /// The inputs are tortured-phrase lists (Problematic Paper Screener CSV exports, or lists
    /// saved by `unspin fingerprints import`): each entry's tortured phrase and its expected
    /// form are a pair, so the profile holds the paper mills' word substitutions, which recur
    /// in tortured phrases no list has yet (BENCHMARKS.md, "Tortured phrases").
    #[arg(long, conflicts_with = "unpaired")]
    pub from_list: bool,
    /// With --unpaired: documents a substitution must recur in.
    #[arg(long, default_value_t = 2)]
    pub min_docs: usize,
    /// With --unpaired: restore up to this many documents (and at most 2 MB of text) together,
    /// as texts of one spinner (one spin rate, each word decided once for all of them); 1
    /// restores each alone. Pooled, the proposals restore more of the spinner's texts
    /// (BENCHMARKS.md, "Learning a spinner").
    #[arg(long, default_value_t = 500, value_name = "DOCS")]
    pub pool: usize,
    /// With --unpaired: proposals printed.
    #[arg(long, default_value_t = 50)]
    pub top: usize,
    /// With --unpaired: print the proposals as JSON lines.
    #[arg(long)]
    pub json: bool,
    /// With --unpaired, for JSONL input: the field holding the text.
    #[arg(long, default_value = "text")]
    pub field: String,
    #[command(flatten)]
    pub pack: PackArg,
    /// With --unpaired: restore with this profile and propose only substitutions of spun words
    /// it has no rule for (what the spinner does beyond what its pairs showed).
    #[command(flatten)]
    pub profile: ProfileArg,
}

#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Print a profile's counts and its most frequent rules.
    Show {
        /// The profile.
        profile: PathBuf,
        /// Rules to print.
        #[arg(long, default_value_t = 30)]
        top: usize,
        /// Print the whole profile as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Merge profiles of the same spinner into one.
    Merge {
        /// The profiles.
        #[arg(required = true)]
        profiles: Vec<PathBuf>,
        /// Where to write the merged profile.
        #[arg(short, long, value_name = "PROFILE")]
        output: PathBuf,
    },
}

/// A learned spinner profile replacing the generic channel.
#[derive(Args, Debug, Clone)]
pub struct ProfileArg {
    /// A spinner profile from `unspin learn`: its substitutions replace the generic channel's
    /// guesses (the generic channel still covers words it never saw).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum FingerprintsCommand {
    /// Import a Problematic Paper Screener CSV export and install it as the default list
    /// ($UNSPIN_DATA_DIR, else $XDG_DATA_HOME/unspin, else ~/.local/share/unspin).
    Import {
        /// The CSV export (columns tortured_phrase, expected_phrase, num_papers).
        csv: PathBuf,
        /// Legitimate terms, one per line, whose occurrences are never reported.
        #[arg(long, value_name = "FILE")]
        allow: Option<PathBuf>,
        /// Write the list here instead of installing it.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Show a list's provenance, size and matcher.
    Show {
        /// The list [default: the installed one].
        #[arg(long, value_name = "FILE")]
        fingerprints: Option<PathBuf>,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct SpinArgs {
    /// Input file, or - for standard input.
    #[arg(default_value = "-")]
    pub input: PathBuf,
    #[command(flatten)]
    pub pack: PackArg,
    #[command(flatten)]
    pub input_args: InputArgs,
    /// Random seed; the same seed, rate and input give the same output.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Share of words to replace.
    #[arg(long, default_value_t = 0.3)]
    pub rate: f64,
    /// Thesauri to draw synonyms from (comma-separated: mythes,wordnet,moby,weak).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "mythes,wordnet,moby",
        value_name = "LIST"
    )]
    pub thesaurus: Vec<String>,
    /// Also rewrite phrases: single words into multi-word synonyms and back.
    #[arg(long)]
    pub phrases: bool,
    /// How strongly the spinner prefers common synonyms: a synonym's weight is its frequency to
    /// this power (0.5 prefers common words; 0 takes any synonym alike, mostly rarer words).
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub frequency_exponent: f64,
    /// Print JSON with the ground-truth substitutions.
    #[arg(long)]
    pub json: bool,
    /// Treat the input as spintax ({a|b|c}, nested) and render one variant.
    #[arg(long)]
    pub spintax: bool,
}

#[derive(Subcommand, Debug)]
pub enum PackCommand {
    /// Build a pack from the sources fetched by scripts/fetch-sources.sh.
    Build {
        /// Folder with the unpacked sources.
        #[arg(long, env = "UNSPIN_SOURCES", default_value = "target/sources")]
        sources: PathBuf,
        /// Output file.
        #[arg(short, long, default_value = "models/default.unspin")]
        output: PathBuf,
        /// Thesauri to include (comma-separated: mythes,wordnet,moby,weak).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "mythes,wordnet,moby,weak"
        )]
        thesauri: Vec<String>,
    },
    /// Show a pack's sources, hashes and sizes.
    Info {
        #[command(flatten)]
        pack: PackArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// Spin clean text, restore it, and report damage undone and clean-text changes.
    Restore(EvalRestoreArgs),
    /// Recall@1 of spun copies (whole and excerpts) against an index, false matches for texts
    /// it does not hold, and queries per second; or make the labelled queries.
    Trace(crate::trace::EvalTraceArgs),
    /// Score clean and spun texts and report AUC, F1 and false positives.
    Detect(EvalDetectArgs),
    /// Learn a profile from pairs of one fixed-dictionary spinner, restore other documents it
    /// spun, and compare damage undone with the generic channel's.
    Learn(EvalLearnArgs),
    /// Restore the plain phrases of a tortured-phrase list with the list switched off: how
    /// many come back exactly as the expected form, and how many are changed at all.
    Tortured(EvalTorturedArgs),
}

#[derive(Args, Debug)]
pub struct EvalLearnArgs {
    #[command(flatten)]
    pub pack: PackArg,
    /// Brown corpus folder.
    #[arg(long, default_value = "target/sources/brown")]
    pub brown: PathBuf,
    /// Documents to learn from (pairs).
    #[arg(long, default_value_t = 50)]
    pub train: usize,
    /// Other documents to restore.
    #[arg(long, default_value_t = 500)]
    pub test: usize,
    /// Spin rate.
    #[arg(long, default_value_t = 0.3)]
    pub rate: f64,
    /// The spinner's dictionary (a fixed choice per word, shared by all its texts).
    #[arg(long, default_value_t = 7)]
    pub dictionary: u64,
    /// Spinner configuration (same, cross, phrase).
    #[arg(long, default_value = "same")]
    pub config: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub tuning: TuningArgs,
    #[command(flatten)]
    pub precise: PreciseArgs,
}

#[derive(Args, Debug)]
pub struct EvalTorturedArgs {
    /// A PPS CSV export.
    pub csv: PathBuf,
    #[command(flatten)]
    pub pack: PackArg,
    /// The spin rate assumed for a phrase on its own (no document to estimate it from).
    #[arg(long, default_value_t = 0.5)]
    pub rate: f32,
    /// Print each phrase with its restoration and expected form.
    #[arg(long)]
    pub verbose: bool,
    /// Restore with this spinner profile (e.g. one `unspin learn --from-list` made from
    /// another list).
    #[command(flatten)]
    pub profile: ProfileArg,
    /// Cross-validate a profile learned from the list itself: split the entries into this many
    /// folds by expected form (one expected form never in two folds), and restore each fold's
    /// phrases with a profile learned from the other folds' entries (plus --profile's, if
    /// given): how a list's profile does on tortured phrases it does not hold. 0 or 1: no
    /// folds.
    #[arg(long, default_value_t = 0)]
    pub folds: usize,
    #[command(flatten)]
    pub precise: PreciseArgs,
    #[command(flatten)]
    pub tuning: TuningArgs,
}

/// The Brown documents an evaluation spins and restores or scores.
#[derive(Args, Debug)]
pub struct BrownSample {
    /// Brown corpus folder (files ca01 … cr09).
    #[arg(long, default_value = "target/sources/brown")]
    pub brown: PathBuf,
    /// Brown file prefix to evaluate on ("ca" is press reportage), or several separated by
    /// commas ("cb,cc,cd"): `--skip` and `--docs` then apply to each.
    #[arg(long, default_value = "ca")]
    pub genre: String,
    /// Number of documents.
    #[arg(long, default_value_t = 44)]
    pub docs: usize,
    /// Documents of the genre passed over before the sample (calibrate_detect fits the
    /// detection models on the first 10 of each genre but press: `--skip 10` holds them out).
    #[arg(long, default_value_t = 0)]
    pub skip: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct EvalDetectArgs {
    #[command(flatten)]
    pub pack: PackArg,
    #[command(flatten)]
    pub sample: BrownSample,
    /// Spin rates.
    #[arg(long, value_delimiter = ',', default_value = "0.05,0.1,0.2,0.3,0.5")]
    pub rates: Vec<f64>,
    /// Spinner configurations to run (same, cross, phrase, uniform).
    #[arg(long, value_delimiter = ',', default_value = "same,cross,phrase")]
    pub configs: Vec<String>,
    /// Score at or above which a text counts as flagged.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// As for `unspin detect`: screening score below which the full analysis is skipped.
    #[arg(long, value_name = "SCORE")]
    pub screen_below: Option<f32>,
    /// Spin every other paragraph only, and score paragraphs against the clean paragraphs of
    /// the same documents (a partly spun copy).
    #[arg(long, conflicts_with = "paragraphs")]
    pub partial: bool,
    /// Judge each paragraph on its own, as a text of its own (as a user who pastes one gets
    /// it): the document columns then count paragraphs.
    #[arg(long)]
    pub paragraphs: bool,
    /// Shrink paragraphs toward their document's log-odds clamped to ± this (0: the paragraph
    /// model's fixed prior) [default: the library's].
    #[arg(long, value_name = "LOGIT")]
    pub document_prior: Option<f32>,
    /// Free words at which a paragraph's own evidence and its document's log-odds count alike
    /// in its score (0: the paragraph model's own, as for the own score) [default: the
    /// library's].
    #[arg(long, value_name = "WORDS")]
    pub document_words: Option<f32>,
    /// Free words at which a text's score weighs the document and short-text models alike (0:
    /// the document model alone) [default: the library's].
    #[arg(long, value_name = "WORDS")]
    pub short_words: Option<f32>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Precise mode: every text, clean and spun, scored with the sentence model (slow: ~8 s per
    /// 1,000 words with 8-bit products; the default sample is ~0.7 M words a configuration).
    #[command(flatten)]
    pub precise: PreciseArgs,
}

#[derive(Args, Debug)]
pub struct EvalRestoreArgs {
    #[command(flatten)]
    pub pack: PackArg,
    #[command(flatten)]
    pub sample: BrownSample,
    /// Spin rate.
    #[arg(long, default_value_t = 0.3)]
    pub rate: f64,
    /// Spinner configurations to run (same, cross, phrase, uniform).
    #[arg(long, value_delimiter = ',', default_value = "same,cross,phrase")]
    pub configs: Vec<String>,
    /// Restore each paragraph on its own, as a user pasting one would (Brown press paragraphs
    /// average 40 words), instead of whole documents.
    #[arg(long)]
    pub paragraphs: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub tuning: TuningArgs,
    #[command(flatten)]
    pub precise: PreciseArgs,
}

/// Model knobs, for sweeps; the defaults are the library's.
#[derive(Args, Debug, Clone, Default)]
pub struct TuningArgs {
    /// Log10 bonus per output word beyond the input's.
    #[arg(long)]
    pub length_bonus: Option<f32>,
    /// Share of the original/spun frequency gap discounted.
    #[arg(long)]
    pub frequency_discount: Option<f32>,
    /// Exponent on the original's weighted degree in the generic channel.
    #[arg(long)]
    pub degree_exponent: Option<f32>,
    /// How strongly the generic channel expects the spinner to prefer common synonyms (the
    /// exponent on a synonym's frequency).
    #[arg(long)]
    pub channel_frequency_exponent: Option<f32>,
    /// Weight of weak (hypernym/similar) relations.
    #[arg(long)]
    pub weak_weight: Option<f32>,
    /// Candidates kept per spun node.
    #[arg(long)]
    pub max_candidates: Option<usize>,
    /// Hypotheses kept per position.
    #[arg(long)]
    pub beam: Option<usize>,
    /// Decide each occurrence alone, not words that recur once per document.
    #[arg(long)]
    pub no_consistent: bool,
    /// Log10 evidence a document-level rule needs.
    #[arg(long)]
    pub consistency_threshold: Option<f32>,
    /// Log10 margin for pruning replacement arcs before the search.
    #[arg(long)]
    pub prune_margin: Option<f32>,
    /// In precise mode, weight of the channel against the sentence model.
    #[arg(long)]
    pub precise_channel_weight: Option<f32>,
    /// In precise mode, words the sentence model proposes at each content word (0: none).
    #[arg(long)]
    pub precise_proposals: Option<usize>,
    /// In precise mode, nats by which a proposed word must beat the observed one.
    #[arg(long)]
    pub precise_margin: Option<f32>,
    /// In precise mode, log10 channel of a proposed original two thesaurus steps away.
    #[arg(long, allow_negative_numbers = true)]
    pub precise_two_hop: Option<f32>,
    /// In precise mode, share of the original/spun frequency gap discounted (the trigram
    /// decoder's is --frequency-discount).
    #[arg(long)]
    pub precise_frequency_discount: Option<f32>,
    /// In precise mode, tokens scored past the last difference between a position's variants
    /// (0: the whole rest of the sentence).
    #[arg(long)]
    pub precise_window: Option<usize>,
    /// In precise mode, judge once more the positions whose left neighbours the first sweep
    /// changed, in the sentence as it then reads (about 1.2x the time).
    #[arg(long)]
    pub precise_second_sweep: bool,
    /// In precise mode, judge once more two neighbouring words read one by one where the
    /// lattice also replaces them together (about 1.4x the time).
    #[arg(long)]
    pub precise_pairs: bool,
    /// Spin rate EM starts from.
    #[arg(long)]
    pub initial_rate: Option<f32>,
    /// EM iterations.
    #[arg(long)]
    pub em_iterations: Option<usize>,
    /// Gain on the EM spin rate's excess over the clean-text floor.
    #[arg(long)]
    pub rate_gain: Option<f32>,
    /// The clean-text floor of the EM spin rate.
    #[arg(long)]
    pub rate_floor: Option<f32>,
    /// Pseudo-counts of changed words in the EM spin rate's prior.
    #[arg(long)]
    pub rate_prior_changed: Option<f32>,
    /// Pseudo-counts of free words in the EM spin rate's prior.
    #[arg(long)]
    pub rate_prior_words: Option<f32>,
    /// Fluency gate: a word with a stored left bigram that beats its unigram by this log10
    /// margin is not a candidate for replacement.
    #[arg(long, allow_negative_numbers = true)]
    pub fluency_fit: Option<f32>,
    /// Joint arcs per unseen pair of adjacent content words (0: none).
    #[arg(long)]
    pub pair_arcs: Option<usize>,
    /// Log10 prior for the second replaced word of a pair arc.
    #[arg(long, allow_negative_numbers = true)]
    pub pair_penalty: Option<f32>,
}
