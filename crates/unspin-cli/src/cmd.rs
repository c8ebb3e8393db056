//! Validated commands: each turns flags into library calls and prints the result.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use unspin::lexicon::flags;
use unspin::restore::RestoreOptions;
use unspin::{Pack, Restorer};

use crate::args::{Cli, ColorChoice, Command, EvalCommand, PackArg, PackCommand};
use crate::output;

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Restore(a) => {
            let mask = parse_flags(a.thesauri.as_deref())?;
            let text = read_input(&a.input, a.input_args.lossy)?;
            let pack = load_pack(&a.pack)?;
            let channel = crate::learn::channel(&pack, mask, &a.profile)?;
            let restorer = Restorer::with_channel(&pack, channel, RestoreOptions::default());
            let fingerprints = crate::fingerprints::matcher(&a.fingerprints)?;
            let mut r = match crate::output::open_neural(&a.precise)? {
                Some(mut n) => restorer.restore_precise(&text, &mut n)?,
                None => restorer.restore(&text),
            };
            if let Some(m) = &fingerprints {
                r.apply_fingerprints(&text, &crate::fingerprints::replacements(&m.find(&text)));
            }
            let mut out = std::io::stdout().lock();
            if a.json {
                serde_json::to_writer(&mut out, &unspin::json::RestoreJson::from(&r))?;
                writeln!(out)?;
            } else if a.diff {
                let color = match a.color {
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                    ColorChoice::Auto => {
                        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                    }
                };
                output::write_diff(&mut out, &text, &r, color)?;
            } else {
                out.write_all(r.text.as_bytes())?;
            }
            out.flush()?;
            Ok(0)
        }
        Command::Spin(a) => crate::output::spin_cmd(a),
        Command::Detect(a) => crate::detect::detect_cmd(a),
        Command::Scan(a) => crate::scan::scan_cmd(a),
        Command::Fingerprints(c) => crate::fingerprints::run(c),
        Command::Index(c) => crate::trace::index_cmd(c),
        Command::Trace(a) => crate::trace::trace_cmd(a),
        Command::Serve(a) => crate::serve::serve_cmd(a),
        Command::Learn(a) => crate::learn::learn_cmd(a),
        Command::Profile(c) => crate::learn::profile_cmd(c),
        Command::Pack(PackCommand::Build {
            sources,
            output,
            thesauri,
        }) => {
            let mask = parse_flags(Some(&thesauri))?;
            let t = Instant::now();
            let (bytes, meta) = unspin::build::build_pack(&unspin::build::BuildOptions {
                sources: sources.clone(),
                thesauri: mask,
            })
            .with_context(|| format!("building a pack from {}", sources.display()))?;
            if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            // Write beside the target and rename, so a crash never leaves a torn pack.
            let tmp = output.with_extension("unspin.tmp");
            std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, &output)
                .with_context(|| format!("renaming to {}", output.display()))?;
            eprintln!(
                "wrote {} ({:.1} MB) in {:.1}s",
                output.display(),
                bytes.len() as f64 / 1e6,
                t.elapsed().as_secs_f64()
            );
            for (k, v) in &meta.stats {
                eprintln!("  {k}: {v}");
            }
            Ok(0)
        }
        Command::Pack(PackCommand::Info { pack }) => {
            let t = Instant::now();
            let p = load_pack(&pack)?;
            let load_ms = t.elapsed().as_secs_f64() * 1e3;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "size: {} bytes (loaded and verified in {load_ms:.1} ms)",
                p.file().len()
            )?;
            writeln!(out, "{}", serde_json::to_string_pretty(p.meta())?)?;
            for (name, len) in p.file().sections() {
                writeln!(out, "section {name:<16} {len:>10} bytes")?;
            }
            Ok(0)
        }
        Command::Eval(EvalCommand::Restore(a)) => crate::output::eval_restore(a),
        Command::Eval(EvalCommand::Detect(a)) => crate::detect::eval_detect(a),
        Command::Eval(EvalCommand::Tortured(a)) => crate::detect::eval_tortured(a),
        Command::Eval(EvalCommand::Trace(a)) => crate::trace::eval_trace(a),
        Command::Eval(EvalCommand::Learn(a)) => crate::learn::eval_learn(a),
    }
}

/// Parses a list of thesaurus names into relation flags.
pub fn parse_flags(names: Option<&[String]>) -> Result<u8> {
    let Some(names) = names else {
        return Ok(flags::ALL);
    };
    let mut mask = 0;
    for n in names {
        mask |= flags::by_name(n.trim()).with_context(|| {
            format!("unknown thesaurus {n:?} (expected mythes, wordnet, moby or weak)")
        })?;
    }
    Ok(mask)
}

/// Finds and opens the model pack: --pack, $UNSPIN_PACK, ./models/default.unspin, or the one in
/// the source tree this binary was built from.
pub fn load_pack(arg: &PackArg) -> Result<Pack> {
    let path = match &arg.pack {
        Some(p) => p.clone(),
        None => {
            let local = PathBuf::from("models/default.unspin");
            let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default.unspin");
            if local.exists() || !built.exists() {
                local
            } else {
                built
            }
        }
    };
    Pack::open(&path).with_context(|| format!("cannot load model pack {}", path.display()))
}

/// Reads a file or standard input as UTF-8, naming the byte offset of the first invalid byte.
pub fn read_input(path: &Path, lossy: bool) -> Result<String> {
    let mut bytes = Vec::new();
    let name = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
        "<stdin>".to_string()
    } else {
        bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        path.display().to_string()
    };
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) if lossy => Ok(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            bail!("{name}: invalid UTF-8 at byte offset {at} (line {line}); use --lossy to replace invalid bytes")
        }
    }
}
