//! Durable file writes for run directories and the cache (docs/methods.md,
//! "The cache"): every write is flushed to disk before anything that vouches
//! for it, temporary names are unique across threads, processes and hosts,
//! and every error names its path.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;

/// A name fragment unique to this call, `host~pid~counter~random`: two
/// writers never share a temporary name (threads of one test binary, or two
/// hosts on a network file system), and [`owner`] can read it back.
pub fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}~{}~{n}~{:08x}", host_name(), std::process::id(), rand::random::<u32>())
}

/// The host and process id in a name that ends with a [`unique_suffix`].
pub fn owner(name: &str) -> Option<(String, u32)> {
    let mut parts = name.rsplit('~');
    let (_random, _n, pid) = (parts.next()?, parts.next()?, parts.next()?.parse().ok()?);
    let host = parts.next()?;
    Some((host.to_string(), pid))
}

/// Whether the process that owns `name` (see [`owner`]) is known to be gone:
/// it ran on this host and no longer exists. Another host's is never known.
pub fn owner_is_gone(name: &str) -> bool {
    match owner(name) {
        Some((host, pid)) => host == host_name() && !Path::new(&format!("/proc/{pid}")).exists(),
        None => false,
    }
}

/// This machine's host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`,
/// else "localhost"), with anything but `[A-Za-z0-9.-]` replaced by `_`.
pub fn host_name() -> String {
    let raw = fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    file_name_safe(&raw)
}

/// `raw` as a file-name part: anything but `[A-Za-z0-9.-]` becomes `_`.
pub fn file_name_safe(raw: &str) -> String {
    raw.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect()
}

/// Create `dir` and its parents.
pub fn create_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))
}

/// Write `bytes` to `path` and flush them to disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
    file.sync_all().with_context(|| format!("flushing {}", path.display()))
}

/// Flush a directory's entries (new names, renames) to disk. A file system
/// that cannot sync directories (some network ones) is not an error.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Publish the complete directory `staging` as `dir`, the one way every
/// run directory comes into place (a cached run, a retrained one, `lockin
/// run --out`, an import): whatever is at `dir` is first renamed to
/// `aside` and removed after, `staging` is renamed to `dir`, and the
/// parent is flushed. A reader sees the old directory, none, or the new
/// one; never a part. On failure `staging` is left for the caller.
pub fn publish_dir(staging: &Path, dir: &Path, aside: &Path) -> anyhow::Result<()> {
    if fs::symlink_metadata(dir).is_ok() {
        fs::rename(dir, aside).with_context(|| format!("moving {} aside", dir.display()))?;
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_dir(parent)?;
    fs::rename(staging, dir).with_context(|| format!("moving {} to {}", staging.display(), dir.display()))?;
    sync_dir(parent);
    let _ = fs::remove_dir_all(aside);
    Ok(())
}

/// A sibling of `path` named `.NAME~TAG~HOST-PID-…`, for staging a
/// directory beside where it will be published.
pub fn staging_beside(path: &Path, tag: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    path.with_file_name(format!(".{name}~{tag}~{}", unique_suffix()))
}

/// Replace `path` with `bytes` atomically: a uniquely named temporary file
/// beside it, flushed, then renamed over it. Readers see the old file or the
/// new one, never a part. A symbolic link is followed, and its target
/// replaced; a path that is neither a file nor a link (`/dev/null`,
/// `/dev/stdout`, a pipe) is written in place, never replaced by a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let meta = fs::symlink_metadata(path).ok();
    if meta.as_ref().is_some_and(|m| m.file_type().is_symlink()) {
        let target = fs::canonicalize(path)
            .with_context(|| format!("{}: a symbolic link whose target cannot be resolved", path.display()))?;
        return write_atomic(&target, bytes);
    }
    match meta {
        Some(m) if m.is_dir() => anyhow::bail!("{}: is a directory, not a file", path.display()),
        Some(m) if !m.is_file() => {
            let mut file =
                fs::OpenOptions::new().write(true).open(path).with_context(|| format!("opening {}", path.display()))?;
            return file
                .write_all(bytes)
                .and_then(|()| file.flush())
                .with_context(|| format!("writing {}", path.display()));
        }
        _ => {}
    }
    let tmp = temporary_beside(path);
    let result = write_synced(&tmp, bytes).and_then(|()| {
        fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    result
}

fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", unique_suffix()))
}

/// Read a file to a string; the error names it.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--results /dev/null` or a symlink was replaced by a regular file.
    #[test]
    fn links_are_followed_and_devices_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.json");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        write_atomic(Path::new("/dev/null"), b"x").unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device(), "/dev/null is still a device");
        let full = write_atomic(Path::new("/dev/full"), b"x").unwrap_err().to_string();
        assert!(full.contains("/dev/full"), "{full}");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere/x"), &dangling).unwrap();
        assert!(write_atomic(&dangling, b"x").unwrap_err().to_string().contains("cannot be resolved"));
    }

    #[test]
    fn suffixes_are_unique_and_file_name_safe() {
        let a = unique_suffix();
        let b = unique_suffix();
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || "._-~".contains(c)), "{a}");
        assert_eq!(owner(&format!("run-key~{a}")), Some((host_name(), std::process::id())));
        assert!(!owner_is_gone(&format!("run-key~{a}")));
        assert!(owner_is_gone(&format!("run-key~{}~4194305~0~00", host_name()))); // above pid_max
        assert!(!owner_is_gone("run-key~other-host~4194305~0~00"));
    }

    #[test]
    fn atomic_writes_replace_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/dir/x.json");
        let err = format!("{:#}", write_atomic(&missing, b"x").unwrap_err());
        assert!(err.contains("no/such/dir"), "{err}");
    }
}
