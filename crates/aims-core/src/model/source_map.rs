//! Where each node of a YAML or JSON file starts, by JSON pointer, so that findings about the
//! typed register can point at a line and column.
//!
//! serde gives positions only for parse errors; findings about valid files (an unknown id, a
//! missing SoA justification) need the position of arbitrary nodes. This module walks the
//! marked event stream of `saphyr-parser` (a YAML 1.2 parser; JSON is YAML 1.2 flow syntax, so
//! the same walk serves `.json` files) and records the start of every node. A mapping entry is
//! recorded at its key, where a reader looks for the field.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScanError};

use super::yaml_bounds::Bounds;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// What the parser expected, in its words.
    pub message: String,
    /// Where the parser stopped.
    pub position: Position,
}

/// JSON pointer -> start position of the node, for one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    positions: HashMap<String, Position>,
}

impl SourceMap {
    /// Maps every node of the first document in `text`; refuses a document beyond the
    /// [`yaml_bounds`](super::yaml_bounds) (too deep, or aliases that expand too far).
    pub fn parse(text: &str) -> Result<SourceMap, SyntaxError> {
        let mut builder = Builder::default();
        let mut bounds = Bounds::default();
        for event in Parser::new_from_str(text) {
            let (event, span) = event.map_err(syntax_error)?;
            let position = Position {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            bounds.accept(&event, position)?;
            if builder.accept(event, position) {
                break;
            }
        }
        Ok(SourceMap {
            positions: builder.positions,
        })
    }

    /// The position of the node at `pointer`, or of its nearest ancestor that has one (a
    /// missing field is reported at the object that lacks it).
    pub fn position(&self, pointer: &str) -> Option<Position> {
        let mut pointer = pointer;
        loop {
            if let Some(position) = self.positions.get(pointer) {
                return Some(*position);
            }
            pointer = &pointer[..pointer.rfind('/')?];
        }
    }
}

pub(super) fn syntax_error(error: ScanError) -> SyntaxError {
    let marker = error.marker();
    SyntaxError {
        message: error.info().to_owned(),
        position: Position {
            line: marker.line(),
            column: marker.col() + 1,
        },
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/` (RFC 6901).
pub fn child_pointer(parent: &str, token: &str) -> String {
    format!("{parent}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// A container being walked.
#[derive(Debug)]
enum Frame {
    /// A sequence at `pointer` whose next item has index `next`.
    Sequence { pointer: String, next: usize },
    /// A mapping at `pointer`, and what its next node is.
    Mapping { pointer: String, next: MappingNext },
    /// A container that no JSON pointer reaches (a mapping key, or the value of such a key).
    Unaddressable,
}

/// The next node of a mapping: a key, or the value of the key just read.
#[derive(Debug)]
enum MappingNext {
    Key,
    /// The value's pointer; `None` when its key was not a scalar.
    Value(Option<String>),
}

#[derive(Debug, Default)]
struct Builder {
    positions: HashMap<String, Position>,
    stack: Vec<Frame>,
    started: bool,
}

impl Builder {
    /// Takes one event; returns true once the first document's root node is complete.
    fn accept(&mut self, event: Event<'_>, position: Position) -> bool {
        match event {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Mapping { pointer, next }) = self.stack.last_mut() {
                    if matches!(next, MappingNext::Key) {
                        let value_pointer = child_pointer(pointer, &value);
                        self.positions.insert(value_pointer.clone(), position);
                        *next = MappingNext::Value(Some(value_pointer));
                        return false;
                    }
                }
                self.node_pointer(position);
                self.stack.is_empty()
            }
            Event::Alias(_) => {
                self.node_pointer(position);
                self.stack.is_empty()
            }
            Event::SequenceStart(..) => {
                let frame = match self.node_pointer(position) {
                    Some(pointer) => Frame::Sequence { pointer, next: 0 },
                    None => Frame::Unaddressable,
                };
                self.stack.push(frame);
                false
            }
            Event::MappingStart(..) => {
                let frame = match self.node_pointer(position) {
                    Some(pointer) => Frame::Mapping {
                        pointer,
                        next: MappingNext::Key,
                    },
                    None => Frame::Unaddressable,
                };
                self.stack.push(frame);
                false
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
                self.stack.is_empty()
            }
            Event::DocumentEnd => self.started,
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) => {
                false
            }
        }
    }

    /// The pointer of a node starting now, recording its position; `None` for a node no
    /// pointer reaches (a non-scalar mapping key and everything under it).
    fn node_pointer(&mut self, position: Position) -> Option<String> {
        self.started = true;
        match self.stack.last_mut() {
            None => {
                self.positions.insert(String::new(), position);
                Some(String::new())
            }
            Some(Frame::Sequence { pointer, next }) => {
                let item = child_pointer(pointer, &next.to_string());
                *next += 1;
                self.positions.insert(item.clone(), position);
                Some(item)
            }
            Some(Frame::Mapping { next, .. }) => {
                match std::mem::replace(next, MappingNext::Key) {
                    // A value: its position was recorded at its key.
                    MappingNext::Value(pointer) => pointer,
                    // A key that is not a scalar: its value is unaddressable too.
                    MappingNext::Key => {
                        *next = MappingNext::Value(None);
                        None
                    }
                }
            }
            Some(Frame::Unaddressable) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Option<Position> {
        Some(Position { line, column })
    }

    #[test]
    fn maps_block_yaml_pointers_to_keys_and_items() {
        let map = SourceMap::parse(
            "- control_id: A.2.2\n  implemented_by:\n    - policy:deny-shell\n    - x\n- {control_id: A.2.3, \"a/b~c\": 1}\n",
        )
        .unwrap();
        assert_eq!(map.position(""), at(1, 1));
        assert_eq!(map.position("/0"), at(1, 3));
        assert_eq!(map.position("/0/control_id"), at(1, 3));
        assert_eq!(map.position("/0/implemented_by"), at(2, 3));
        assert_eq!(map.position("/0/implemented_by/1"), at(4, 7));
        assert_eq!(map.position("/1/control_id"), at(5, 4));
        assert_eq!(map.position("/1/a~1b~0c"), at(5, 23));
        // A missing field is reported at the object that lacks it.
        assert_eq!(map.position("/1/justification"), map.position("/1"));
        assert_eq!(map.position("/7/x"), map.position(""));
    }

    #[test]
    fn maps_json_text() {
        let map = SourceMap::parse(
            "{\n  \"title\": \"AI policy\",\n  \"commitments\": [\"a\", \"b\"]\n}\n",
        )
        .unwrap();
        assert_eq!(map.position("/title"), at(2, 3));
        assert_eq!(map.position("/commitments/1"), at(3, 24));
    }

    #[test]
    fn skips_complex_keys_without_confusing_later_entries() {
        let map = SourceMap::parse("? [a, b]\n: {x: 1}\nafter: 2\n").unwrap();
        assert_eq!(map.position("/after"), at(3, 1));
        assert_eq!(map.position("/x"), map.position(""));
    }

    #[test]
    fn reports_syntax_errors_with_their_position() {
        let err = SourceMap::parse("ok: 1\nkey: \"unterminated\n").unwrap_err();
        assert_eq!(err.position, Position { line: 2, column: 6 }, "{err:?}");
    }
}
