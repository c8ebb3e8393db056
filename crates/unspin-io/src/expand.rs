//! Inputs as given on a command line → the files to read, in a deterministic order.

use std::path::{Path, PathBuf};

use crate::{Error, Format, InputOptions, Result};

/// Turns inputs into the list of files to read, in order: each input in turn, a file as it is,
/// a directory as its files (recursively, sorted by name), a glob pattern (`*`, `?`, `[…]`) as
/// the files it matches (sorted), and `-` (stdin) as itself.
///
/// A file named on its own must have a known format: [`InputOptions::format`], else its name's
/// ([`Format::from_path`]). Files found in a directory or by a pattern are kept only if their
/// format is known (every file, with an explicit format); hidden files and directories (names
/// starting with `.`) are not searched, and symbolic links found in a directory are followed to
/// files but not to directories, so that a link cycle cannot loop. The same file named twice is
/// read twice.
///
/// # Errors
///
/// An input that does not exist and is no pattern ([`Error::NotFound`]), a pattern that does
/// not parse ([`Error::Pattern`]), a pattern or directory with no file to read
/// ([`Error::NoMatch`]), a file of unknown format ([`Error::UnknownFormat`]), or a directory
/// that cannot be listed ([`Error::Io`]).
///
/// ```
/// # use unspin_io::{expand, InputOptions};
/// let dir = tempfile::tempdir()?;
/// for name in ["b.jsonl", "a.txt", "sub/c.warc.gz", "notes.md", ".hidden/d.txt"] {
///     let path = dir.path().join(name);
///     std::fs::create_dir_all(path.parent().unwrap())?;
///     std::fs::write(path, "")?;
/// }
/// let files = expand(&[dir.path().to_path_buf()], &InputOptions::default())?;
/// let names: Vec<_> = files.iter().map(|f| f.strip_prefix(dir.path()).unwrap()).collect();
/// assert_eq!(names, ["a.txt", "b.jsonl", "sub/c.warc.gz"].map(std::path::Path::new));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn expand(inputs: &[PathBuf], options: &InputOptions) -> Result<Vec<PathBuf>> {
    let readable = |p: &Path| options.format.is_some() || Format::from_path(p).is_some();
    let mut files = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            files.push(input.clone());
            continue;
        }
        match std::fs::metadata(input) {
            Ok(m) if m.is_dir() => {
                let before = files.len();
                walk(input, &readable, &mut files)?;
                if files.len() == before {
                    return Err(Error::NoMatch {
                        pattern: input.display().to_string(),
                    });
                }
            }
            Ok(_) => {
                if !readable(input) {
                    return Err(Error::UnknownFormat {
                        path: input.clone(),
                    });
                }
                files.push(input.clone());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some(pattern) = input.to_str().filter(|s| s.contains(['*', '?', '['])) else {
                    return Err(Error::NotFound {
                        path: input.clone(),
                    });
                };
                glob_files(pattern, &readable, &mut files)?;
            }
            Err(source) => {
                return Err(Error::Io {
                    path: input.clone(),
                    source,
                })
            }
        }
    }
    Ok(files)
}

fn glob_files(
    pattern: &str,
    readable: &dyn Fn(&Path) -> bool,
    files: &mut Vec<PathBuf>,
) -> Result<()> {
    let paths = glob::glob(pattern).map_err(|source| Error::Pattern {
        pattern: pattern.to_string(),
        source,
    })?;
    let mut matched: Vec<PathBuf> = Vec::new();
    for entry in paths {
        let path = entry.map_err(|e| {
            let path = e.path().to_path_buf();
            Error::Io {
                path,
                source: e.into(),
            }
        })?;
        matched.push(path);
    }
    matched.sort();
    let before = files.len();
    for path in matched {
        if path.is_dir() {
            walk(&path, readable, files)?;
        } else if readable(&path) {
            files.push(path);
        }
    }
    if files.len() == before {
        return Err(Error::NoMatch {
            pattern: pattern.to_string(),
        });
    }
    Ok(())
}

fn walk(dir: &Path, readable: &dyn Fn(&Path) -> bool, files: &mut Vec<PathBuf>) -> Result<()> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let kind = entry.file_type().map_err(io)?;
        let path = entry.path();
        let is_dir = kind.is_dir();
        // A link is read if it leads to a file; links to directories are not followed.
        let is_file = kind.is_file() || (kind.is_symlink() && path.is_file());
        if is_dir || is_file {
            entries.push((entry.file_name(), path, is_dir));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, path, is_dir) in entries {
        if is_dir {
            walk(&path, readable, files)?;
        } else if readable(&path) {
            files.push(path);
        }
    }
    Ok(())
}
