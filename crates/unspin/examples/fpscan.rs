//! Fingerprint scanning end to end, for scripts/bench-fingerprints.sh.
//!
//! ```text
//! fpscan import LIST.csv OUT.json     import a PPS CSV export, report bad rows, save the list
//! fpscan phrases LIST.json [--standalone]
//!                                     print each tortured phrase once (not proximity ones);
//!                                     --standalone: only entries that are one quoted phrase
//! fpscan scan LIST.json FILE [--threads N] [--nfa] [--print]
//!                                     load the list, build the matcher, scan FILE as one text
//!                                     (on N threads, default 1), print the hit count (and each
//!                                     hit with --print)
//! ```
//!
//! Timings go to stderr as `key=value` lines.
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use unspin::fingerprint::{Engine, FingerprintList, Matcher, Scratch};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("import") if args.len() == 3 => import(&args[1], &args[2]),
        Some("phrases") if (2..=3).contains(&args.len()) => {
            phrases(&args[1], args.get(2).is_some_and(|a| a == "--standalone"))
        }
        Some("scan") if args.len() >= 3 => scan(&args[1], &args[2], &args[3..]),
        _ => Err(
            "usage: fpscan import CSV OUT | phrases LIST | scan LIST FILE [--nfa] [--print]".into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("fpscan: {e}");
        std::process::exit(2);
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn import(csv: &str, out: &str) -> Result<()> {
    let bytes = std::fs::read(csv)?;
    let t = Instant::now();
    let name = Path::new(csv)
        .file_name()
        .map_or(csv.into(), |n| n.to_string_lossy());
    let (list, errors) = FingerprintList::import_csv(&bytes, &name);
    let import_ms = t.elapsed().as_secs_f64() * 1e3;
    for e in &errors {
        eprintln!("{csv}: {e}");
    }
    list.save(Path::new(out))?;
    let p = list.provenance();
    eprintln!(
        "import_ms={import_ms:.2}\nrows_read={}\nimported={}\nskipped={}\nsha256={}",
        p.rows_read, p.imported, p.skipped, p.sha256
    );
    Ok(())
}

fn phrases(list: &str, standalone: bool) -> Result<()> {
    let list = FingerprintList::load(Path::new(list))?;
    let mut seen = std::collections::HashSet::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for e in list.entries() {
        if standalone && e.parsed().atoms().len() > 1 {
            continue;
        }
        for a in e.parsed().tortured() {
            if a.proximity.is_none() && seen.insert(a.text.clone()) {
                writeln!(out, "{}", a.text)?;
            }
        }
    }
    Ok(())
}

fn scan(list: &str, file: &str, flags: &[String]) -> Result<()> {
    let t = Instant::now();
    let list = FingerprintList::load(Path::new(list))?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let engine = if flags.iter().any(|f| f == "--nfa") {
        Engine::Nfa
    } else {
        Engine::Auto
    };
    let t = Instant::now();
    let matcher = Matcher::with_engine(&list, engine);
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    // Mapped and paged in up front, not copied: the scan is what is measured.
    let f = std::fs::File::open(file)?;
    // SAFETY: the file is only read, and is not modified while mapped (a benchmark input).
    let map = unsafe { memmap2::MmapOptions::new().populate().map(&f)? };
    let text = std::str::from_utf8(&map)?;
    let read_ms = t.elapsed().as_secs_f64() * 1e3;
    let threads = match flags.iter().position(|f| f == "--threads") {
        Some(k) => flags
            .get(k + 1)
            .ok_or("--threads needs a number")?
            .parse()?,
        None => 1,
    };
    let t = Instant::now();
    let mut hits = Vec::new();
    if threads > 1 {
        hits = matcher.find_par(text, threads);
    } else {
        matcher.find_into(text, &mut Scratch::new(), &mut hits);
    }
    let scan_s = t.elapsed().as_secs_f64();
    if flags.iter().any(|f| f == "--print") {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for h in &hits {
            writeln!(
                out,
                "{}\t{}\t{:?}\t{}\t{}",
                h.start,
                h.end,
                h.matched,
                h.tortured,
                h.expected.as_deref().unwrap_or("???")
            )?;
        }
    }
    println!("{}", hits.len());
    let multiline = hits.iter().filter(|h| h.matched.contains('\n')).count();
    eprintln!(
        "threads={threads}\nhits={}\nhits_multiline={multiline}\nentries={}\npatterns={}\nengine={}\nautomaton_bytes={}\nload_ms={load_ms:.2}\nbuild_ms={build_ms:.2}\nread_ms={read_ms:.2}\nscan_s={scan_s:.3}\nscan_mb_s={:.0}",
        hits.len(),
        list.len(),
        matcher.patterns_len(),
        matcher.engine_name(),
        matcher.automaton_bytes(),
        text.len() as f64 / 1e6 / scan_s,
    );
    Ok(())
}
