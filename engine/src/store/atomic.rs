//! Replacing a file safely: write a temporary file beside the target, sync it, rename it over the target.
//!
//! What is at the target path is respected: a symlink is followed (the file it points at is updated and the link
//! stays), anything that is not a regular file (a device, a directory, a pipe) is refused rather than replaced,
//! and an existing file keeps its permissions. Temporary files carry the writer's process id; one left by a
//! process that no longer runs (an import killed mid-write) is removed by the next write in that directory.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

const PREFIX: &str = ".citytwin-";
const SUFFIX: &str = ".tmp";

/// The file a write to `path` must replace: `path` itself, or what its symlinks lead to.
///
/// # Errors
/// `InvalidInput` when the target exists and is not a regular file, or is a symlink to nothing.
pub fn resolve_target(path: &Path) -> io::Result<PathBuf> {
    let link = std::fs::symlink_metadata(path);
    let target = match &link {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a symbolic link to nothing; remove it or point it at a file",
            )
        })?,
        _ => path.to_owned(),
    };
    match std::fs::metadata(&target) {
        Ok(m) if !m.is_file() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is not a regular file (a device, directory or pipe); give the path of a file to write",
        )),
        _ => Ok(target),
    }
}

/// The directory a temporary file for `target` goes into.
fn dir_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Removes temporary files in `dir` left by citytwin processes that are gone. Only where `/proc` tells which
/// processes run; errors are ignored (another process may be removing the same file).
pub fn remove_stale_temporaries(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let Some((pid, _)) = rest.split_once('-') else {
            continue;
        };
        if !name.ends_with(SUFFIX) {
            continue;
        }
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid != me && !Path::new(&format!("/proc/{pid}")).exists() {
            let p = e.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

/// The name prefix of this process's temporary files and directories (`tempfile::Builder::prefix`); end the
/// name with [`TEMP_SUFFIX`] so that [`remove_stale_temporaries`] knows it.
pub fn temp_prefix() -> String {
    format!("{PREFIX}{}-", std::process::id())
}

/// The name suffix of temporary files and directories.
pub const TEMP_SUFFIX: &str = SUFFIX;

/// Writes a file through `write` and puts it at `path` atomically (see the module documentation). Returns the
/// path written (the symlink's target where `path` is a symlink).
///
/// # Errors
/// As [`resolve_target`], and any I/O error; the old file is then untouched and the temporary file removed.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<PathBuf> {
    let target = resolve_target(path)?;
    let dir = dir_of(&target);
    remove_stale_temporaries(&dir);
    let mode = std::fs::metadata(&target).ok().map(|m| m.permissions());
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix())
        .suffix(SUFFIX)
        .tempfile_in(&dir)?;
    write(tmp.as_file_mut())?;
    let f = tmp.as_file();
    match mode {
        Some(p) => f.set_permissions(p)?,
        None => set_new_file_mode(f)?,
    }
    f.sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(target)
}

/// A new file gets the usual mode of new files (rw-r--r--), not the temporary file's owner-only one.
#[cfg(unix)]
fn set_new_file_mode(f: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_new_file_mode(_: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_respected() {
        let dir = tempfile::tempdir().expect("tmp");
        let real = dir.path().join("real.twin");
        std::fs::write(&real, b"old").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
            let link = dir.path().join("link.twin");
            std::os::unix::fs::symlink(&real, &link).expect("symlink");
            let wrote =
                write_atomically(&link, |f| io::Write::write_all(f, b"new")).expect("write");
            assert_eq!(wrote, std::fs::canonicalize(&real).expect("canon"));
            assert!(std::fs::symlink_metadata(&link)
                .expect("link")
                .file_type()
                .is_symlink());
            assert_eq!(std::fs::read(&real).expect("read"), b"new");
            let mode = std::fs::metadata(&real).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
            // A new file is readable by others, as new files usually are.
            let new = dir.path().join("new.twin");
            write_atomically(&new, |f| io::Write::write_all(f, b"x")).expect("write");
            let mode = std::fs::metadata(&new).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
            // A device is refused, not replaced.
            let e = write_atomically(Path::new("/dev/null"), |_| Ok(())).expect_err("device");
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(!std::fs::metadata("/dev/null").expect("null").is_file());
            let dangling = dir.path().join("dangling.twin");
            std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("symlink");
            assert!(write_atomically(&dangling, |_| Ok(())).is_err());
        }
        // A directory is refused.
        assert!(write_atomically(dir.path(), |_| Ok(())).is_err());
        // A failing writer leaves the old file and no temporary file.
        let e = write_atomically(&real, |_| Err(io::Error::other("disk full"))).expect_err("fails");
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(std::fs::read(&real).expect("read"), b"new");
        let leftovers = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn stale_temporaries_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().expect("tmp");
        // Process ids are below 2^22 on Linux: 4294967 never runs.
        let stale = dir.path().join(".citytwin-4294967-abc.tmp");
        let mine = dir
            .path()
            .join(format!(".citytwin-{}-live.tmp", std::process::id()));
        let other = dir.path().join("notes.tmp");
        for p in [&stale, &mine, &other] {
            std::fs::write(p, b"x").expect("write");
        }
        write_atomically(&dir.path().join("a.twin"), |_| Ok(())).expect("write");
        assert!(!stale.exists());
        assert!(mine.exists() && other.exists());
    }
}
