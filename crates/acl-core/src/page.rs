//! Cursor pagination for list-type answers (rule E6).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An opaque position in a sorted answer: pass it back in [`PageRequest::after`] for the
/// next page. Its text is stable for a given answer, so it can travel through a CLI or an
/// HTTP query string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor from its text form (as printed by [`Cursor::as_str`]).
    pub fn new(text: impl Into<String>) -> Cursor {
        Cursor(text.into())
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which page of an answer to return.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// Start after this cursor; from the beginning when `None`.
    pub after: Option<Cursor>,
    /// At most this many items; every item when `None`.
    pub limit: Option<usize>,
}

impl PageRequest {
    /// Every item, from the beginning.
    pub fn all() -> PageRequest {
        PageRequest::default()
    }

    /// The first `limit` items.
    pub fn first(limit: usize) -> PageRequest {
        PageRequest {
            after: None,
            limit: Some(limit),
        }
    }

    /// The `limit` items after `cursor`.
    pub fn after(cursor: Cursor, limit: usize) -> PageRequest {
        PageRequest {
            after: Some(cursor),
            limit: Some(limit),
        }
    }
}

/// One page of a sorted answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page, in the answer's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Cuts a page out of `items`, which must be sorted by `key` ascending (byte order)
    /// with distinct keys: the items whose key is after the request's cursor, at most its
    /// limit. For answers a store hands over whole (a user's sessions, the policies).
    pub fn cut(items: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
        let after = request.after.as_ref().map(Cursor::as_str);
        let mut rest = items
            .into_iter()
            .filter(|item| after.is_none_or(|cursor| key(item).as_str() > cursor))
            .peekable();
        let limit = request.limit.unwrap_or(usize::MAX);
        let mut page = Vec::new();
        while page.len() < limit {
            match rest.next() {
                Some(item) => page.push(item),
                None => break,
            }
        }
        let next = match (rest.peek(), page.last()) {
            (Some(_), Some(last)) => Some(Cursor(key(last))),
            _ => None,
        };
        Page { items: page, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_the_whole_answer_once() {
        let items: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
        for limit in 1..12 {
            let mut seen = Vec::new();
            let mut request = PageRequest::first(limit);
            loop {
                let page = Page::cut(items.clone(), &request, Clone::clone);
                assert!(page.items.len() <= limit);
                seen.extend(page.items);
                match page.next {
                    Some(cursor) => request = PageRequest::after(cursor, limit),
                    None => break,
                }
            }
            assert_eq!(seen, items, "limit {limit}");
        }
        let all = Page::cut(items.clone(), &PageRequest::all(), Clone::clone);
        assert_eq!(all.items, items);
        assert_eq!(all.next, None);
        let empty = Page::cut(items, &PageRequest::first(0), Clone::clone);
        assert!(empty.items.is_empty());
    }
}
