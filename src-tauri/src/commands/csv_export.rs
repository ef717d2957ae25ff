//! CSV files for a spreadsheet, shared by the exports (team, earnings): cells a
//! spreadsheet would run as formulas are defused, and each export gets a new file name.

use std::path::{Path, PathBuf};

use canopy_core::ipc::CommandError;
use tauri::Manager;

/// A CSV being written in memory, saved whole by [`save`].
pub(crate) type Sheet = csv::Writer<Vec<u8>>;

/// A new, empty sheet.
pub(crate) fn sheet() -> Sheet {
    csv::Writer::from_writer(Vec::new())
}

/// Where exports go: the Downloads folder, or Documents where there is none, or a
/// `Downloads` folder in the home folder where the desktop names neither (a Linux session
/// without XDG user folders).
pub(crate) fn folder(app: &tauri::AppHandle) -> Result<PathBuf, CommandError> {
    let path = app.path();
    path.download_dir()
        .or_else(|_| path.document_dir())
        .or_else(|_| path.home_dir().map(|home| home.join("Downloads")))
        .map_err(|_| CommandError::Internal("there is no Downloads folder to save to".into()))
}

/// One CSV record; a cell a spreadsheet would run as a formula is written as text.
pub(crate) fn write(out: &mut Sheet, cells: &[&str]) -> Result<(), CommandError> {
    out.write_record(cells.iter().map(|cell| defuse(cell)))
        .map_err(|e| CommandError::Internal(e.to_string()))
}

/// Saves `out` as `base.csv` in `folder` (a number is added rather than overwriting an
/// earlier export); answers the path.
pub(crate) fn save(out: Sheet, folder: &Path, base: &str) -> Result<PathBuf, CommandError> {
    let bytes = out
        .into_inner()
        .map_err(|e| CommandError::Internal(e.to_string()))?;
    let path = free_name(folder, base);
    std::fs::create_dir_all(folder)
        .and_then(|()| std::fs::write(&path, bytes))
        .map_err(|e| CommandError::Internal(format!("cannot save {}: {e}", path.display())))?;
    Ok(path)
}

/// OWASP's advice against CSV injection: a leading `=`, `+`, `-`, `@`, tab or carriage
/// return makes a spreadsheet evaluate the cell, so such a cell starts with `'`. A plain
/// number ("-12.50") is left alone: it is safe, and a spreadsheet must see a number.
fn defuse(cell: &str) -> String {
    if is_number(cell) {
        return cell.to_owned();
    }
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// Digits with an optional leading minus and an optional decimal part: "-0.05", "12".
fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
}

/// `base.csv`, or `base (2).csv` and so on if it exists.
fn free_name(folder: &Path, base: &str) -> PathBuf {
    let mut path = folder.join(format!("{base}.csv"));
    let mut n = 2;
    while path.exists() {
        path = folder.join(format!("{base} ({n}).csv"));
        n += 1;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("-5+1"), "'-5+1");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("Ana L."), "Ana L.");
        assert_eq!(
            defuse("-12.50"),
            "-12.50",
            "a negative amount stays a number"
        );
        assert_eq!(defuse("-"), "'-");
        assert_eq!(defuse("-.5"), "'-.5");
    }

    #[test]
    fn a_second_export_gets_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let first = save(sheet(), dir.path(), "x").unwrap();
        let second = save(sheet(), dir.path(), "x").unwrap();
        assert!(first.ends_with("x.csv"));
        assert!(second.ends_with("x (2).csv"));
    }
}
