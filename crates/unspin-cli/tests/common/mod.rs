//! What the CLI's test files share: paths into the repository and a way to run the binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The committed default pack.
pub fn pack() -> PathBuf {
    root().join("models/default.unspin")
}

/// A file of `examples/`.
pub fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(name)).unwrap()
}

/// `unspin ARGS` with the committed pack and `stdin` on standard input. No fingerprint list a
/// user installed on this machine may change what is tested, and colour follows the flags.
pub fn unspin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_unspin"))
        .args(args)
        .env("UNSPIN_PACK", pack())
        .env("UNSPIN_DATA_DIR", root().join("target/no-such-data-dir"))
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unspin");
    // A run that stops before reading its input (a usage error, exit 2) closes the pipe: what
    // it did is in its exit code and output, not in the write.
    match child.stdin.take().unwrap().write_all(stdin) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r.unwrap(),
    }
    child.wait_with_output().unwrap()
}

/// The SmolLM2 model from scripts/fetch-neural.sh (`$UNSPIN_NEURAL_MODEL`, else
/// target/models): `None` when it is missing, which fails the test under
/// `UNSPIN_REQUIRE_NEURAL` (CI sets it) instead of letting it pass vacuously.
pub fn neural_model() -> Option<PathBuf> {
    let model = std::env::var_os("UNSPIN_NEURAL_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/models/SmolLM2-135M-Instruct.Q4_1.gguf"));
    if model.exists() {
        return Some(model);
    }
    assert!(
        std::env::var_os("UNSPIN_REQUIRE_NEURAL").is_none(),
        "no model at {}",
        model.display()
    );
    eprintln!("no neural model; run scripts/fetch-neural.sh");
    None
}
