//! A YAML document as a tree of nodes that each know where they start in the text, built
//! from saphyr-parser's events. Mappings keep their keys in order, duplicates included, so
//! the model's parser can report a duplicate key at its own position. Anchors, aliases and
//! tags are refused: a model file is plain data.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::{Pos, Problem};

/// One node of the document.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Where the node starts.
    pub pos: Pos,
    /// What it holds.
    pub value: Value,
}

/// What a node holds.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// A scalar's text; `plain` when it was written without quotes (so `null`, `~`, `true`
    /// keep their YAML meaning).
    Scalar { text: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, its entries in the order written.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The node's text when it is a scalar that is not null.
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    /// Whether the node is a plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}

fn pos(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

/// Parses `text` as one YAML document. An empty text is an empty mapping.
pub(crate) fn parse(text: &str) -> Result<Node, Problem> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<(Node, Option<Node>)> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    for event in &mut parser {
        let (event, span) = event.map_err(|err| Problem {
            pos: Pos {
                line: err.marker().line(),
                column: err.marker().col() + 1,
            },
            message: format!("invalid yaml: {}", err.info()),
        })?;
        let here = pos(&span);
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {
                continue;
            }
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(Problem::at(here, "a model file holds one yaml document"));
                }
                continue;
            }
            Event::Alias(_) => {
                return Err(Problem::at(
                    here,
                    "aliases are not supported in model files",
                ));
            }
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(Problem::at(
                        here,
                        "anchors and tags are not supported in model files",
                    ));
                }
                Node {
                    pos: here,
                    value: Value::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                }
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(Problem::at(
                        here,
                        "anchors and tags are not supported in model files",
                    ));
                }
                let value = if matches!(event, Event::SequenceStart(..)) {
                    Value::Seq(Vec::new())
                } else {
                    Value::Map(Vec::new())
                };
                stack.push((Node { pos: here, value }, None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some((node, _)) => node,
                None => return Err(Problem::at(here, "invalid yaml: unbalanced collection")),
            },
        };
        // Attach the finished node to its parent, or make it the root.
        match stack.last_mut() {
            None => root = Some(node),
            Some((parent, pending_key)) => match &mut parent.value {
                Value::Seq(items) => items.push(node),
                Value::Map(entries) => match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => entries.push((key, node)),
                },
                Value::Scalar { .. } => {
                    return Err(Problem::at(here, "invalid yaml: a scalar has no children"));
                }
            },
        }
    }
    Ok(root.unwrap_or(Node {
        pos: Pos { line: 1, column: 1 },
        value: Value::Map(Vec::new()),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn nodes_know_their_positions() {
        let root = parse("a: 1\nb:\n  - x\n  - {c: d}\n").unwrap();
        let Value::Map(entries) = &root.value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 2);
        let (key, value) = &entries[1];
        assert_eq!(key.text(), Some("b"));
        assert_eq!((key.pos.line, key.pos.column), (2, 1));
        let Value::Seq(items) = &value.value else {
            panic!("not a seq")
        };
        assert_eq!((items[1].pos.line, items[1].pos.column), (4, 5));
    }

    #[test]
    fn duplicate_keys_are_kept_and_errors_have_positions() {
        let root = parse("a: 1\na: 2\n").unwrap();
        let Value::Map(entries) = &root.value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 2);
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.pos.line >= 1, "{err:?}");
        let err = parse("a: &x 1\nb: *x\n").unwrap_err();
        assert_eq!(err.pos.line, 1);
        assert!(err.message.contains("anchors"), "{}", err.message);
    }
}
