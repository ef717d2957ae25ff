//! Crash-safe replacement of small files (the key envelope, the unlock throttle): after a
//! crash or power cut at any point the target holds either the complete old or the
//! complete new contents, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::envelope::CrashPoint;
use crate::error::StoreError;

/// Replaces `path` with `bytes` atomically: see [`write_atomic_with`].
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic_with(path, bytes, None)
}

/// Writes `bytes` to `<name>.tmp` beside `path`, syncs it, renames it over `path` and
/// syncs the directory so the rename itself survives a power cut. The file is readable
/// by its owner only on unix. `crash_at` aborts the process at that point; only the
/// crash tests pass it.
pub(crate) fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    crash_at: Option<CrashPoint>,
) -> Result<(), StoreError> {
    let tmp = temp_path(path)?;
    // A temp file left by an earlier crash may have looser permissions than ours, and
    // `truncate` would keep them: start from a fresh file.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(StoreError::io(&tmp)(e)),
        _ => {}
    }
    let mut file = create_private(&tmp).map_err(StoreError::io(&tmp))?;
    if crash_at == Some(CrashPoint::AfterTempWrite) {
        file.write_all(&bytes[..bytes.len() / 2])
            .map_err(StoreError::io(&tmp))?;
        std::process::abort();
    }
    file.write_all(bytes).map_err(StoreError::io(&tmp))?;
    // Without this the rename can reach the disk before the data, and a power cut then
    // leaves an empty or partial file under the real name.
    file.sync_all().map_err(StoreError::io(&tmp))?;
    drop(file);
    if crash_at == Some(CrashPoint::BeforeRename) {
        std::process::abort();
    }
    fs::rename(&tmp, path).map_err(StoreError::io(path))?;
    if crash_at == Some(CrashPoint::AfterRename) {
        std::process::abort();
    }
    sync_dir(path)
}

/// `<name>.tmp` in the same directory, so the rename never crosses file systems.
fn temp_path(path: &Path) -> Result<PathBuf, StoreError> {
    let Some(name) = path.file_name() else {
        return Err(StoreError::Io {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
        });
    };
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    Ok(path.with_file_name(tmp_name))
}

#[cfg(unix)]
fn create_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> io::Result<File> {
    // Windows: the file inherits the ACL of the user's profile directory.
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Makes the rename durable. Unix only: Windows cannot open a directory as a file, and
/// NTFS journals the rename's metadata itself.
#[cfg(unix)]
fn sync_dir(path: &Path) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(dir))
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Overwrites an existing file in place with `bytes` and syncs it: the envelope's last
/// write before a wipe deletes it.
pub(crate) fn overwrite(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(StoreError::io(path))?;
    file.write_all(bytes).map_err(StoreError::io(path))?;
    file.sync_all().map_err(StoreError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temp_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new contents").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new contents");
        assert!(!dir.path().join("state.json.tmp").exists());
    }

    #[test]
    fn a_leftover_temp_file_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        fs::write(dir.path().join("state.json.tmp"), b"half a wr").unwrap();
        write_atomic(&path, b"complete").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"complete");
    }

    #[cfg(unix)]
    #[test]
    fn only_the_owner_can_read_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let tmp = dir.path().join("state.json.tmp");
        fs::write(&tmp, b"left by a crash").unwrap();
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&path, b"secret-ish").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
