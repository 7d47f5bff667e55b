//! Bounds on what a YAML file may make its reader build: how deep it nests, and how many nodes
//! its aliases add. serde's YAML reader replays an anchored node for every alias, so a small
//! file of aliases to aliases expands to gigabytes; and deep nesting costs it quadratic time.
//! These are checked on saphyr's event stream (one pass, stopping at the first excess) before
//! serde reads the file, and reported at the line and column of the node that went too far.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

use super::source_map::{syntax_error, Position, SyntaxError};

/// The deepest nesting of mappings and sequences a policy or register file may have (real ones
/// stay under 15).
pub const MAX_DEPTH: usize = 64;

/// The most nodes all aliases of a file may add together, counting every node an alias
/// stands for (including through aliases inside the anchored node).
pub const MAX_ALIAS_NODES: u64 = 100_000;

/// Checks a whole file against [`MAX_DEPTH`] and [`MAX_ALIAS_NODES`] (and saphyr's own
/// nesting limit, which its scanner reaches first on flow nesting). Other syntax errors are
/// left to the reader that reads the file, so they are reported in its words.
pub fn check(text: &str) -> Result<(), SyntaxError> {
    let mut bounds = Bounds::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(event) => event,
            Err(err) if err.info().contains("recursion limit") => return Err(syntax_error(err)),
            Err(_) => return Ok(()),
        };
        bounds.accept(
            &event,
            Position {
                line: span.start.line(),
                column: span.start.col() + 1,
            },
        )?;
    }
    Ok(())
}

/// The running state of the check, fed one event at a time.
#[derive(Debug, Default)]
pub struct Bounds {
    /// For each open container: its anchor (0 for none) and the nodes it holds so far.
    open: Vec<(usize, u64)>,
    /// The nodes each anchored node stands for.
    anchored: HashMap<usize, u64>,
    /// The nodes added by aliases so far.
    expanded: u64,
}

impl Bounds {
    /// Takes one event at `position`.
    pub fn accept(&mut self, event: &Event<'_>, position: Position) -> Result<(), SyntaxError> {
        match event {
            Event::Scalar(_, _, anchor, _) => self.add_node(*anchor, 1),
            Event::Alias(anchor) => {
                let nodes = self.anchored.get(anchor).copied().unwrap_or(1);
                self.expanded = self.expanded.saturating_add(nodes);
                if self.expanded > MAX_ALIAS_NODES {
                    return Err(SyntaxError {
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes (each alias repeats its anchored node; write the repeated part once)"
                        ),
                        position,
                    });
                }
                self.add_node(0, nodes);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.open.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                        position,
                    });
                }
                self.open.push((*anchor, 0));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, nodes)) = self.open.pop() {
                    self.add_node(anchor, nodes.saturating_add(1));
                }
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => {}
        }
        Ok(())
    }

    /// Counts a complete node of `nodes` nodes into its parent, remembering it when anchored.
    fn add_node(&mut self, anchor: usize, nodes: u64) {
        if anchor != 0 {
            self.anchored.insert(anchor, nodes);
        }
        if let Some((_, parent)) = self.open.last_mut() {
            *parent = parent.saturating_add(nodes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classic alias bomb: each level repeats the one before ten times.
    fn alias_bomb(levels: usize) -> String {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..levels {
            let previous = format!("*a{}", level - 1);
            let items = vec![previous; 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        text
    }

    #[test]
    fn alias_expansion_is_bounded_and_located() {
        assert!(check(&alias_bomb(4)).is_ok());
        let err = check(&alias_bomb(9)).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err:?}");
        // The fifth line is where 100,000 nodes are passed: each of its aliases adds 11,111.
        assert_eq!(err.position.line, 5, "{err:?}");
        assert!(err.position.column > 1, "{err:?}");
    }

    #[test]
    fn nesting_is_bounded_and_located() {
        // Flow nesting: saphyr's scanner stops at its own limit before any event.
        let flow = format!("rules: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let err = check(&flow).unwrap_err();
        assert!(err.message.contains("recursion limit"), "{err:?}");
        assert_eq!(err.position.line, 1);
        let block: String = (0..1000)
            .map(|depth| format!("{}k{depth}:\n", "  ".repeat(depth)))
            .collect();
        let err = check(&block).unwrap_err();
        assert!(err.message.contains("deeper than 64"), "{err:?}");
        assert_eq!(err.position.line, 65);
        let fine = format!("a: {}1{}", "[".repeat(63), "]".repeat(63));
        assert!(check(&fine).is_ok());
    }
}
