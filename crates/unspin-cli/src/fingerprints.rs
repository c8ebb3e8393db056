//! `unspin fingerprints …`, and finding the fingerprint list that detect and restore use.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use unspin::fingerprint::{FingerprintList, Hit, Matcher};

use crate::args::{FingerprintArgs, FingerprintsCommand};

/// The folder where imported lists are installed: `$UNSPIN_DATA_DIR`, else
/// `$XDG_DATA_HOME/unspin`, else `~/.local/share/unspin`.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("UNSPIN_DATA_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("unspin"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".local/share/unspin"))
}

/// Where `unspin fingerprints import` installs the list.
pub fn installed_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("fingerprints.json"))
}

/// Reads a list: a saved one, or a PPS CSV (by its `.csv` extension) imported on the fly, in
/// which case rows that cannot be read are reported on stderr.
pub fn read_list(path: &Path) -> Result<FingerprintList> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        let (list, errors) = FingerprintList::import_csv(&bytes, &name);
        for e in &errors {
            eprintln!("unspin: {name}: {e}");
        }
        Ok(list)
    } else {
        FingerprintList::load(path)
            .with_context(|| format!("cannot load fingerprint list {}", path.display()))
    }
}

/// The matcher the flags ask for: none with `--no-fingerprints`, the named list with
/// `--fingerprints FILE`, else the installed list if there is one.
pub fn matcher(a: &FingerprintArgs) -> Result<Option<Matcher>> {
    if a.no_fingerprints {
        return Ok(None);
    }
    let path = match &a.fingerprints {
        Some(p) => p.clone(),
        None => match installed_path().filter(|p| p.exists()) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    Ok(Some(read_list(&path)?.matcher()))
}

/// The hits of a matcher as (start, end, expected form) for restoration; hits with no known
/// expected form are left to the model.
pub fn replacements(hits: &[Hit]) -> Vec<(usize, usize, String)> {
    hits.iter()
        .filter_map(|h| h.expected.clone().map(|e| (h.start, h.end, e)))
        .collect()
}

pub fn run(cmd: FingerprintsCommand) -> Result<u8> {
    match cmd {
        FingerprintsCommand::Import { csv, allow, output } => {
            let bytes =
                std::fs::read(&csv).with_context(|| format!("reading {}", csv.display()))?;
            let name = csv
                .file_name()
                .map_or_else(|| csv.display().to_string(), |n| n.to_string_lossy().into());
            let (mut list, errors) = FingerprintList::import_csv(&bytes, &name);
            for e in &errors {
                eprintln!("unspin: {}: {e}", csv.display());
            }
            if let Some(allow) = allow {
                let terms = std::fs::read_to_string(&allow)
                    .with_context(|| format!("reading allow-list {}", allow.display()))?;
                list.allow(
                    terms
                        .lines()
                        .map(str::trim)
                        .filter(|t| !t.is_empty() && !t.starts_with('#')),
                );
            }
            anyhow::ensure!(
                !list.is_empty(),
                "{}: no fingerprint could be imported ({} rows skipped)",
                csv.display(),
                errors.len()
            );
            let out = match output {
                Some(o) => o,
                None => installed_path()
                    .context("no data directory: set UNSPIN_DATA_DIR or HOME, or pass --output")?,
            };
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            // Write beside the target and rename, so readers never see half a list.
            let tmp = out.with_extension("json.tmp");
            list.save(&tmp)?;
            std::fs::rename(&tmp, &out)
                .with_context(|| format!("renaming to {}", out.display()))?;
            let p = list.provenance();
            eprintln!(
                "imported {} fingerprints from {} (sha256 {}), {} rows skipped, {} allowed terms; installed at {}",
                p.imported,
                p.source,
                p.sha256,
                p.skipped,
                list.allowed().len(),
                out.display()
            );
            Ok(0)
        }
        FingerprintsCommand::Show { fingerprints } => {
            let path = match fingerprints {
                Some(p) => p,
                None => installed_path().filter(|p| p.exists()).context(
                    "no fingerprint list installed; run `unspin fingerprints import FILE.csv`",
                )?,
            };
            let list = read_list(&path)?;
            let p = list.provenance();
            let m = list.matcher();
            println!("list: {}", path.display());
            println!("source: {} (sha256 {})", p.source, p.sha256);
            println!(
                "entries: {} imported of {} rows read, {} skipped",
                p.imported, p.rows_read, p.skipped
            );
            println!("allowed terms: {}", list.allowed().len());
            println!(
                "matcher: {} patterns, {} ({} KiB)",
                m.patterns_len(),
                m.engine_name(),
                m.automaton_bytes() / 1024
            );
            Ok(0)
        }
    }
}
