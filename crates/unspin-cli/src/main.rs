//! The `unspin` command: a thin shell over the `unspin` library.
//!
//! Exit codes follow grep: 0 success (or something found), 1 nothing found, 2 error.

mod args;
mod cmd;
mod detect;
mod fingerprints;
mod learn;
mod output;
mod report;
mod scan;
mod serve;
mod trace;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // A closed pipe (`unspin restore big.txt | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let mut msg = format!("unspin: {err}");
            for cause in err.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            let _ = writeln!(std::io::stderr(), "{msg}");
            ExitCode::from(2)
        }
    }
}
