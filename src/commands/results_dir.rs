//! Writing a command's result files as a directory that appears whole: files go into a temporary directory
//! beside the target, which is then renamed into place; an existing directory is replaced only with `--force`
//! and only when it holds nothing but such result files.

use anyhow::{anyhow, bail, Context, Result};
use citytwin_engine::store::atomic;
use std::path::{Path, PathBuf};

/// Writes the directory `out` with `fill`, which puts its files into the directory it is given.
/// `is_result` says which file names a replaceable directory may hold; `what` names them in messages.
pub fn write(
    out: &Path,
    force: bool,
    what: &str,
    is_result: impl Fn(&str) -> bool,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    if out.exists() {
        if !force {
            bail!(
                "{}: exists already; use --force to replace it",
                out.display()
            );
        }
        let refuse = || {
            anyhow!(
                "{}: exists and is not a directory of {what}; not replacing it",
                out.display()
            )
        };
        if !out.is_dir() {
            return Err(refuse());
        }
        for e in std::fs::read_dir(out).with_context(|| out.display().to_string())? {
            let e = e.with_context(|| out.display().to_string())?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !(e.path().is_file() && is_result(&name)) {
                return Err(refuse());
            }
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).with_context(|| parent.display().to_string())?;
    atomic::remove_stale_temporaries(&parent);
    let tmp = tempfile::Builder::new()
        .prefix(&atomic::temp_prefix())
        .suffix(atomic::TEMP_SUFFIX)
        .tempdir_in(&parent)
        .with_context(|| parent.display().to_string())?;
    fill(tmp.path())?;
    let tmp = tmp.keep();
    if out.exists() {
        let old = parent.join(format!(
            "{}old-{}{}",
            atomic::temp_prefix(),
            out.file_name()
                .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
            atomic::TEMP_SUFFIX
        ));
        std::fs::rename(out, &old).with_context(|| out.display().to_string())?;
        std::fs::rename(&tmp, out).with_context(|| out.display().to_string())?;
        std::fs::remove_dir_all(&old).with_context(|| old.display().to_string())?;
    } else {
        std::fs::rename(&tmp, out).with_context(|| out.display().to_string())?;
    }
    Ok(())
}
