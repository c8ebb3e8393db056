//! Counts the records of some inputs and how fast they were read.
//!
//! ```sh
//! cargo run --release -p unspin-io --example count -- [--format F] [--field F] [--id-field F] \
//!     [--max-record-bytes N] [--expect N] INPUT...
//! ```
//!
//! With `--expect N`, it fails unless exactly N records were read as text and none failed: a
//! benchmark run checks its own result.
//!
//! Prints the records read (text and errors, the errors grouped by message), the records passed
//! over as not documents, the text's size, and the speed in MB/s of input (bytes on disk, so
//! compressed for a gzipped file) and of text.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use unspin_io::{expand, scan, InputOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut options = InputOptions::default();
    let mut inputs = Vec::new();
    let mut expect: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--format" => options.format = Some(value()?.parse()?),
            "--field" => options.field = value()?,
            "--id-field" => options.id_field = value()?,
            "--max-record-bytes" => options.max_record_bytes = value()?.parse()?,
            "--expect" => expect = Some(value()?.parse()?),
            _ => inputs.push(PathBuf::from(arg)),
        }
    }
    if inputs.is_empty() {
        return Err(
            "usage: count [--format F] [--field F] [--id-field F] [--max-record-bytes N] [--expect N] INPUT..."
                .into(),
        );
    }
    let files = expand(&inputs, &options)?;
    let input_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();

    let start = Instant::now();
    let (mut ok, mut text_bytes) = (0u64, 0u64);
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut run = scan(files.clone(), &options);
    for record in run.by_ref() {
        match &record.body {
            Ok(text) => {
                ok += 1;
                text_bytes += text.len() as u64;
            }
            Err(e) => *errors.entry(e.to_string()).or_default() += 1,
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let failed: u64 = errors.values().sum();
    println!("files            {}", files.len());
    println!(
        "records          {} ({ok} text, {failed} errors)",
        ok + failed
    );
    for (message, n) in &errors {
        println!("  {n:>10}  {message}");
    }
    println!("passed over      {} (not documents)", run.skipped());
    println!(
        "input            {:.1} MB in {seconds:.2} s: {:.1} MB/s",
        input_bytes as f64 / 1e6,
        input_bytes as f64 / 1e6 / seconds
    );
    println!(
        "text             {:.1} MB: {:.1} MB/s",
        text_bytes as f64 / 1e6,
        text_bytes as f64 / 1e6 / seconds
    );
    if let Some(n) = expect {
        if (ok, failed) != (n, 0) {
            return Err(
                format!("expected {n} text records and no error, read {ok} and {failed}").into(),
            );
        }
    }
    Ok(())
}
