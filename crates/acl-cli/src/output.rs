//! What a command prints: aligned text by default, JSON with `--json`. A command builds
//! both forms at once, so the two can never describe different results.

use acl_core::{Cursor, Page};
use serde::Serialize;
use serde_json::Value;

/// Whether a command's answer is a success or a denial (`check`, `can` printing `denied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Exit 0.
    Ok,
    /// Exit 77: the answer is printed, and the exit code says "denied".
    Denied,
    /// The answer is printed, and the exit code says it reports failures: 1 for failed
    /// assertions (`acl test`), 65 for problems in model files (`acl validate`).
    Failed(u8),
}

/// The result of a successful command.
#[derive(Debug, Clone)]
pub struct Output {
    /// The text form, printed to stdout without `--json`.
    pub text: String,
    /// The JSON form, printed to stdout with `--json`.
    pub json: Value,
    /// Exit 0 or 77.
    pub verdict: Verdict,
    /// The next page's cursor of a paginated listing, told on stderr in text mode.
    pub next: Option<Cursor>,
}

impl Output {
    /// A success with the given text and JSON forms.
    pub fn new(text: impl Into<String>, json: Value) -> Output {
        Output {
            text: text.into(),
            json,
            verdict: Verdict::Ok,
            next: None,
        }
    }

    /// A success whose JSON form is `value` serialized.
    pub fn of<T: Serialize>(text: impl Into<String>, value: &T) -> Output {
        Output::new(text, to_json(value))
    }

    /// A table of `rows` under `headers`; its JSON form is `items` serialized, wrapped in
    /// `{"items": [...], "next": cursor}` like every listing.
    pub fn table<T: Serialize>(
        headers: &[&str],
        rows: Vec<Vec<String>>,
        items: &[T],
        next: Option<Cursor>,
    ) -> Output {
        Output {
            text: table(headers, &rows),
            json: serde_json::json!({ "items": to_json(&items), "next": next.as_ref().map(Cursor::as_str) }),
            verdict: Verdict::Ok,
            next,
        }
    }

    /// A listing of one page of `page`, each item a row made by `row`.
    pub fn page<T: Serialize>(
        headers: &[&str],
        page: &Page<T>,
        row: impl Fn(&T) -> Vec<String>,
    ) -> Output {
        let rows = page.items.iter().map(row).collect();
        Output::table(headers, rows, &page.items, page.next.clone())
    }

    /// The same output, with the given verdict.
    pub fn with_verdict(mut self, verdict: Verdict) -> Output {
        self.verdict = verdict;
        self
    }
}

/// `value` as JSON. Every type serialized here is plain data (strings, numbers, maps with
/// string keys), which serde_json always represents; the fallback is never reached.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|err| Value::String(err.to_string()))
}

/// Rows aligned in columns under a header, two spaces apart; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
    for line in std::iter::once(&header).chain(rows) {
        let last = line.len().saturating_sub(1);
        for (i, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let width = widths.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let rows = vec![
            vec!["storage://c/alice".to_owned(), "manage".to_owned()],
            vec!["job:".to_owned(), "read".to_owned()],
        ];
        assert_eq!(
            table(&["uri", "level"], &rows),
            "URI                LEVEL\nstorage://c/alice  manage\njob:               read\n"
        );
    }
}
