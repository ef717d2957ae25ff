//! Finding a member in the downline by name (FTS5, word prefixes), member number prefix or
//! email prefix; each source reads only as many index entries as the page needs.

use canopy_core::Period;
use rusqlite::named_params;

use super::{MemberRow, ROW_COLUMNS, ROW_JOINS, period_param, read_rows};
use crate::error::StoreError;
use crate::store::Store;

/// What a hit matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Number,
    Email,
    Name,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub member: MemberRow,
    pub matched: Match,
}

/// The longest search text accepted.
const MAX_QUERY: usize = 200;

impl Store {
    /// Up to `limit` members matching `text`: member numbers starting with it, emails
    /// starting with it (where the server sent emails), then names with words starting
    /// with each of its words. Empty text finds nothing.
    pub fn search(
        &self,
        text: &str,
        period: Period,
        limit: u32,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let text = text.trim();
        if text.chars().count() > MAX_QUERY {
            return Err(StoreError::Invalid(format!(
                "search for at most {MAX_QUERY} characters"
            )));
        }
        let limit = limit.clamp(1, 500) as usize;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        self.database().read(|conn| {
            let period = period_param(period);
            let mut hits: Vec<SearchHit> = Vec::new();
            let add = |rows: Vec<MemberRow>, matched: Match, hits: &mut Vec<SearchHit>| {
                for member in rows {
                    if hits.len() < limit && !hits.iter().any(|h| h.member.id == member.id) {
                        hits.push(SearchHit { member, matched });
                    }
                }
            };
            // Member numbers are printed and typed with spaces or dashes (`1004-5821`).
            let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
            if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
                let sql = format!(
                    "SELECT {ROW_COLUMNS} FROM members m {ROW_JOINS}
                     WHERE m.number >= :lo AND m.number < :hi ORDER BY m.number LIMIT :limit"
                );
                let (lo, hi) = prefix_range(&digits);
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = read_rows(stmt.query(named_params! {
                    ":lo": lo, ":hi": hi, ":period": period, ":limit": limit as i64,
                })?)?;
                add(rows, Match::Number, &mut hits);
            }
            // Anything that could begin an address (no spaces) is tried as an email prefix.
            if !text.contains(char::is_whitespace) && hits.len() < limit {
                let sql = format!(
                    "SELECT {ROW_COLUMNS} FROM member_personal p
                     JOIN members m ON m.id = p.member_id {ROW_JOINS}
                     WHERE lower(p.email) >= :lo AND lower(p.email) < :hi
                     ORDER BY lower(p.email) LIMIT :limit"
                );
                let (lo, hi) = prefix_range(&text.to_lowercase());
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = read_rows(stmt.query(named_params! {
                    ":lo": lo, ":hi": hi, ":period": period, ":limit": limit as i64,
                })?)?;
                add(rows, Match::Email, &mut hits);
            }
            if let Some(fts) = fts_query(text)
                && hits.len() < limit
            {
                let sql = format!(
                    "SELECT {ROW_COLUMNS} FROM member_search f
                     JOIN members m ON m.id = f.rowid {ROW_JOINS}
                     WHERE member_search MATCH :q LIMIT :limit"
                );
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = read_rows(stmt.query(named_params! {
                    ":q": fts, ":period": period, ":limit": limit as i64,
                })?)?;
                add(rows, Match::Name, &mut hits);
            }
            Ok(hits)
        })
    }
}

/// `[lo, hi)` holding exactly the strings that start with `prefix`.
fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}

/// An FTS5 query matching names with a word starting with each of the text's words. Words
/// are reduced to letters and digits, so no user input reaches FTS5's query syntax.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_only_carry_words() {
        assert_eq!(fts_query("Zoë  Mül"), Some("\"Zoë\"* \"Mül\"*".into()));
        assert_eq!(fts_query("a\" OR b*"), Some("\"a\"* \"OR\"* \"b\"*".into()));
        assert_eq!(fts_query("-- ()"), None);
    }

    #[test]
    fn prefix_ranges_bound_the_prefix() {
        let (lo, hi) = prefix_range("100");
        assert!(lo.as_str() <= "100" && "1009999" < hi.as_str() && "101" > hi.as_str());
    }
}
