//! Durable file writes for run directories and the cache (docs/methods.md,
//! "The cache"): every write is flushed to disk before anything that vouches
//! for it, temporary names are unique across threads, processes and hosts,
//! and every error names its path.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
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

/// The lock file that owns the staging directory `dir`: `DIR.lock` beside it.
fn owner_lock(dir: &Path) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Own the staging directory `dir` (before creating it): an exclusive
/// flock on the new file `DIR.lock`, held while the returned file is open.
/// A process id names no owner across PID namespaces or hosts; a lock held
/// by a live process does, and the kernel drops it when the process dies.
pub fn own_staging(dir: &Path) -> anyhow::Result<File> {
    let path = owner_lock(dir);
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.lock().with_context(|| format!("locking {}", path.display()))?;
    Ok(file)
}

/// Remove the staging directory `dir` (if still there) and its lock file,
/// then let go of the lock.
pub fn release_staging(dir: &Path, lock: File) {
    let _ = fs::remove_dir_all(dir);
    let _ = fs::remove_file(owner_lock(dir));
    drop(lock);
}

/// Remove what writers that are gone left in the staging directory
/// `staging`: a directory whose lock file ([`own_staging`]) nobody holds,
/// and one without a lock file (a directory moved aside by
/// [`publish_dir`]) once its owner is known to be gone ([`owner_is_gone`])
/// or it is older than `ttl`. Errors are ignored (another process may be
/// cleaning too).
pub fn sweep_staging(staging: &Path, ttl: std::time::Duration) {
    let Ok(entries) = fs::read_dir(staging) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(dir) = name.strip_suffix(".lock") {
            let free = File::open(&path).ok().filter(|f| f.try_lock().is_ok());
            if let Some(lock) = free {
                release_staging(&staging.join(dir), lock);
            }
            continue;
        }
        if owner_lock(&path).exists() {
            continue; // decided by its lock
        }
        let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|age| age > ttl));
        if owner_is_gone(&name) || old {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// Remove the siblings of `path` staged with `tag` ([`staging_beside`])
/// by writers that are gone: one whose lock ([`own_staging`]) nobody
/// holds, or one without a lock whose owner is known to be gone.
pub fn sweep_beside(path: &Path, tag: &str) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let prefix = format!(".{name}~{tag}~");
    let Ok(entries) = fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else { continue };
        if let Some(dir) = file.strip_suffix(".lock") {
            if let Some(lock) = File::open(entry.path()).ok().filter(|f| f.try_lock().is_ok()) {
                release_staging(&parent.join(dir), lock);
            }
        } else if !owner_lock(&entry.path()).exists() && owner_is_gone(rest) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A sibling of `path` named `.NAME~TAG~HOST-PID-…`, for staging a
/// directory beside where it will be published.
pub fn staging_beside(path: &Path, tag: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    path.with_file_name(format!(".{name}~{tag}~{}", unique_suffix()))
}

/// Replace `path` with `bytes` atomically, whatever it holds now (a
/// results file, a report): [`replace`] with no expected content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    replace(path, None, bytes)
}

/// Replace `path`, which the caller read as `read`, with `bytes`; refused,
/// naming the file, if it holds anything else by the time it would be
/// replaced (edited while the caller worked: the edit is never lost).
pub fn replace_checked(path: &Path, read: &[u8], bytes: &[u8]) -> anyhow::Result<()> {
    replace(path, Some(read), bytes)
}

/// Replace `path` with `bytes` (docs/claims.md, "How every file is written"): a uniquely named
/// temporary file beside it, flushed, given the replaced file's mode, owner
/// and group, then renamed over it, under an exclusive lock on the replaced
/// file that every lockin writer takes. Readers see the old file or the
/// new one, never a part. Where `expected` is given, the file is compared
/// with it under the lock, just before the rename. A file lockin may not
/// write is refused (never replaced through its directory); one with
/// other hard links, or whose owner or group cannot be kept, is rewritten
/// in place. A symbolic link is followed and its target replaced; a path
/// that is neither a file nor a link (`/dev/null`, a pipe) is written in
/// place. Temporaries of writers that died are removed.
fn replace(path: &Path, expected: Option<&[u8]>, bytes: &[u8]) -> anyhow::Result<()> {
    let meta = fs::symlink_metadata(path).ok();
    if meta.as_ref().is_some_and(|m| m.file_type().is_symlink()) {
        let target = fs::canonicalize(path)
            .with_context(|| format!("{}: a symbolic link whose target cannot be resolved", path.display()))?;
        return replace(&target, expected, bytes);
    }
    match meta {
        Some(m) if m.is_dir() => anyhow::bail!("{}: is a directory, not a file", path.display()),
        Some(m) if !m.is_file() => return write_device(path, bytes),
        Some(_) => {}
        None if expected.is_some() => anyhow::bail!("{}: was removed while lockin worked; not written", path.display()),
        None => return write_new(path, bytes),
    }
    let (file, meta) = open_locked(path)?;
    anyhow::ensure!(
        meta.mode() & 0o222 != 0,
        "{}: read-only (mode {:04o}), so lockin does not replace it",
        path.display(),
        meta.mode() & 0o7777
    );
    if let Some(read) = expected {
        let now = read_all(&file).with_context(|| format!("reading {}", path.display()))?;
        anyhow::ensure!(
            now == read,
            "{}: changed since lockin read it (edited meanwhile?); not written, so nothing is lost: run again",
            path.display()
        );
    }
    if meta.nlink() > 1 {
        return write_in_place(file, path, bytes);
    }
    match write_beside(path, &meta, bytes)? {
        Some(tmp) => rename_over(&tmp, path),
        None => write_in_place(file, path, bytes), // its owner or group cannot be kept
    }
}

/// `path` opened for reading and writing and locked, once the lock is on
/// the file the path names (a writer that held it may have renamed another
/// file over it meanwhile), with its metadata.
fn open_locked(path: &Path) -> anyhow::Result<(File, fs::Metadata)> {
    loop {
        let file = fs::OpenOptions::new().read(true).write(true).open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::PermissionDenied => {
                anyhow::anyhow!("{}: not writable by this user, so lockin does not replace it", path.display())
            }
            _ => anyhow::Error::new(e).context(format!("opening {}", path.display())),
        })?;
        file.lock().with_context(|| format!("locking {}", path.display()))?;
        let meta = file.metadata().with_context(|| format!("reading {}", path.display()))?;
        let named = fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
        if (named.dev(), named.ino()) == (meta.dev(), meta.ino()) {
            return Ok((file, meta));
        }
    }
}

fn read_all(mut file: &File) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek};
    let mut out = Vec::new();
    file.seek(std::io::SeekFrom::Start(0))?;
    file.read_to_end(&mut out)?;
    Ok(out)
}

/// A temporary file beside `path` holding `bytes`, flushed, with the mode,
/// owner and group of `meta`; `None` (and no file) if the owner or group
/// cannot be given to it.
fn write_beside(path: &Path, meta: &fs::Metadata, bytes: &[u8]) -> anyhow::Result<Option<PathBuf>> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    remove_dead_temporaries(path);
    let tmp = temporary_beside(path);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    let kept = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid())).is_ok();
    let written = file
        .set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()));
    if written.is_err() || !kept {
        let _ = fs::remove_file(&tmp);
    }
    written.map(|()| kept.then_some(tmp))
}

fn rename_over(tmp: &Path, path: &Path) -> anyhow::Result<()> {
    let result = fs::rename(tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()));
    if result.is_err() {
        let _ = fs::remove_file(tmp);
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    result
}

/// Overwrite the locked `file` (at `path`) with `bytes`: its inode, and so
/// its links, mode, owner and group, stay; a reader may see a part.
fn write_in_place(mut file: File, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {} in place", path.display()))
}

/// A device or pipe, written as it is.
fn write_device(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file =
        fs::OpenOptions::new().write(true).open(path).with_context(|| format!("opening {}", path.display()))?;
    file.write_all(bytes).and_then(|()| file.flush()).with_context(|| format!("writing {}", path.display()))
}

/// A file that does not exist yet: a temporary renamed into place (the
/// process's umask gives its mode, as for any new file).
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = temporary_beside(path);
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .with_context(|| format!("creating {}", tmp.display()));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    rename_over(&tmp, path)
}

/// Remove the temporaries beside `path` ([`temporary_beside`]) of writers
/// that died: called under the lock on `path`, so no live writer of it has
/// one, except one that began when `path` did not exist (a minute's grace).
fn remove_dead_temporaries(path: &Path) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{name}.tmp-");
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > std::time::Duration::from_secs(60)));
        if file.starts_with(&prefix) && (stale || file.strip_prefix(&prefix).is_some_and(owner_is_gone)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", unique_suffix()))
}

/// Read the regular file `path` (a link followed) to a string, refusing
/// one that is not a regular file (a FIFO would hang the read, a link to
/// `/dev/zero` never end it) or holds more than `max` bytes.
pub fn read_regular(path: &Path, max: u64) -> anyhow::Result<String> {
    use std::io::Read;
    let kind = |m: &fs::Metadata| {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            "a named pipe"
        } else if t.is_char_device() || t.is_block_device() {
            "a device"
        } else if t.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        }
    };
    let meta = fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(meta.is_file(), "{}: {}, not a regular file", path.display(), kind(&meta));
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let meta = file.metadata().with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(meta.is_file(), "{}: {}, not a regular file", path.display(), kind(&meta));
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(bytes.len() as u64 <= max, "{}: larger than {max} bytes", path.display());
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))
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

    /// B4: every write replaced the file with a new 0644 one of the caller:
    /// a private file became world-readable, a read-only one of another
    /// owner was rewritten, and a hard link was split off.
    #[test]
    fn writes_keep_mode_owner_group_and_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private.yaml");
        fs::write(&private, "old").unwrap();
        fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
        let owned = std::os::unix::fs::chown(&private, Some(4242), Some(4343)).is_ok(); // as root
        write_atomic(&private, b"new").unwrap();
        let meta = fs::metadata(&private).unwrap();
        assert_eq!((fs::read_to_string(&private).unwrap().as_str(), meta.mode() & 0o7777), ("new", 0o600));
        if owned {
            assert_eq!((meta.uid(), meta.gid()), (4242, 4343), "owner and group kept");
        }
        let read_only = dir.path().join("read-only.yaml");
        fs::write(&read_only, "theirs").unwrap();
        fs::set_permissions(&read_only, fs::Permissions::from_mode(0o440)).unwrap();
        let err = format!("{:#}", write_atomic(&read_only, b"x").unwrap_err());
        assert!(err.contains("read-only.yaml") && err.contains("read-only"), "{err}");
        assert_eq!(fs::read_to_string(&read_only).unwrap(), "theirs");
        let linked = dir.path().join("linked.yaml");
        fs::hard_link(&private, &linked).unwrap();
        write_atomic(&private, b"through the link").unwrap();
        assert_eq!(fs::read_to_string(&linked).unwrap(), "through the link", "the link is kept");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3, "no temporaries left");
    }

    /// B5, B6: a file edited (or written by another lockin) after it was
    /// read is not replaced: of two writers from one reading, one wins and
    /// the other is refused, naming the file.
    #[test]
    fn a_file_changed_since_it_was_read_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("C1.yaml");
        fs::write(&path, "tolerance: 1").unwrap();
        fs::write(&path, "tolerance: 2").unwrap(); // edited meanwhile
        let err = format!("{:#}", replace_checked(&path, b"tolerance: 1", b"recorded").unwrap_err());
        assert!(err.contains("C1.yaml") && err.contains("changed since"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "tolerance: 2");
        let results: Vec<bool> = std::thread::scope(|s| {
            let writers: Vec<_> = (0..8)
                .map(|i| {
                    let path = &path;
                    s.spawn(move || replace_checked(path, b"tolerance: 2", format!("w{i}").as_bytes()).is_ok())
                })
                .collect();
            writers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|&&ok| ok).count(), 1, "exactly one of the writers: {results:?}");
        assert!(fs::read_to_string(&path).unwrap().starts_with('w'));
    }

    /// Temporaries of a writer that died are removed by the next write.
    #[test]
    fn dead_writers_temporaries_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        fs::write(&path, "old").unwrap();
        let dead = dir.path().join(format!(".x.json.tmp-{}~4194305~0~00", host_name())); // above pid_max
        fs::write(&dead, "half").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert!(!dead.exists(), "a dead writer's temporary is left");
    }

    /// B16: a FIFO named `*.yaml` hung the reader; a link to /dev/zero
    /// read until memory ran out.
    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = read_regular(&zero, 1 << 20).unwrap_err().to_string();
        assert!(err.contains("zero.yaml") && err.contains("a device"), "{err}");
        let fifo = dir.path().join("fifo.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let err = read_regular(&fifo, 1 << 20).unwrap_err().to_string();
        assert!(err.contains("fifo.yaml") && err.contains("named pipe"), "{err}");
        let big = dir.path().join("big.yaml");
        fs::write(&big, "x".repeat(100)).unwrap();
        assert!(read_regular(&big, 99).unwrap_err().to_string().contains("larger than 99 bytes"));
        assert_eq!(read_regular(&big, 100).unwrap().len(), 100);
    }

    /// B14: staging was owned by host and pid, so a process in another
    /// PID namespace removed a live one. A held lock owns it now.
    #[test]
    fn staging_is_owned_by_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join("staging");
        let live = staging.join(format!("run~{}~4194305~0~00", host_name())); // a pid this namespace lacks
        let lock = own_staging(&live).unwrap();
        create_dir(&live).unwrap();
        let dead = staging.join(format!("other~{}", unique_suffix()));
        let dead_lock = own_staging(&dead).unwrap();
        create_dir(&dead).unwrap();
        drop(dead_lock); // its process died
        sweep_staging(&staging, std::time::Duration::from_secs(3600));
        assert!(live.exists(), "a live staging directory was removed");
        assert!(!dead.exists() && !owner_lock(&dead).exists(), "an abandoned one is left");
        release_staging(&live, lock);
        assert_eq!(fs::read_dir(&staging).unwrap().count(), 0);
        // The same for `lockin run --out`'s partial directories.
        let out = dir.path().join("out");
        let (live, dead) = (staging_beside(&out, "partial"), staging_beside(&out, "partial"));
        let (lock, dead_lock) = (own_staging(&live).unwrap(), own_staging(&dead).unwrap());
        create_dir(&live).unwrap();
        create_dir(&dead).unwrap();
        drop(dead_lock);
        sweep_beside(&out, "partial");
        assert!(live.exists() && !dead.exists());
        release_staging(&live, lock);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "only staging/ is left");
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
