//! The ISO/IEC 42001:2023 catalog: clauses 4-10 and the 38 Annex A controls.
//!
//! The catalog ships as data (`data/catalog.json`) embedded in the binary and is parsed once.
//! Only identifiers and short titles are included; the standard's text is not public.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const CATALOG_JSON: &str = include_str!("../data/catalog.json");

/// The whole catalog: clauses, Annex A groups and controls.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// The standard the catalog describes.
    pub standard: String,
    /// Clauses 4-10, top-level clauses and their sub-clauses.
    pub clauses: Vec<Clause>,
    /// The nine Annex A control groups (A.2-A.10).
    pub groups: Vec<ControlGroup>,
    /// The 38 Annex A controls.
    pub controls: Vec<Control>,
}

/// One clause or sub-clause of the management system requirements.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    /// Clause number, e.g. `6.1.3`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// The enclosing top-level clause, absent for clauses 4-10 themselves.
    pub parent: Option<String>,
}

/// An Annex A control group such as `A.6`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ControlGroup {
    /// Group id, e.g. `A.6`.
    pub id: String,
    /// Short title.
    pub title: String,
}

/// An Annex A control such as `A.6.2.8`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Control id, e.g. `A.6.2.8`.
    pub id: String,
    /// The group the control belongs to, e.g. `A.6`.
    pub group: String,
    /// Short title.
    pub title: String,
}

/// A lookup by an id the catalog does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Annex A control id `{0}` (expected one of the 38 ids such as A.6.2.8)")]
pub struct UnknownControl(pub String);

/// A lookup of a clause the catalog does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ISO/IEC 42001 clause `{0}` (expected an id such as 6.1.3)")]
pub struct UnknownClause(pub String);

/// The embedded catalog, parsed on first use.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match serde_json::from_str(CATALOG_JSON) {
        Ok(catalog) => catalog,
        // The file is compiled in and covered by tests; failing here is a build defect.
        Err(err) => panic!("embedded catalog.json is invalid: {err}"),
    })
}

/// All 38 Annex A controls in standard order.
pub fn controls() -> &'static [Control] {
    &catalog().controls
}

/// Looks a control up by id.
pub fn control(id: &str) -> Result<&'static Control, UnknownControl> {
    controls()
        .iter()
        .find(|control| control.id == id)
        .ok_or_else(|| UnknownControl(id.to_owned()))
}

/// Looks a clause up by id.
pub fn clause(id: &str) -> Result<&'static Clause, UnknownClause> {
    catalog()
        .clauses
        .iter()
        .find(|clause| clause.id == id)
        .ok_or_else(|| UnknownClause(id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_all_38_controls_in_nine_groups() {
        assert_eq!(controls().len(), 38);
        assert_eq!(catalog().groups.len(), 9);
        for control in controls() {
            assert!(
                catalog().groups.iter().any(|g| g.id == control.group),
                "{}",
                control.id
            );
            assert!(control.id.starts_with(&format!("{}.", control.group)));
        }
        let per_group: Vec<usize> = catalog()
            .groups
            .iter()
            .map(|g| controls().iter().filter(|c| c.group == g.id).count())
            .collect();
        assert_eq!(per_group, vec![3, 2, 5, 4, 9, 5, 4, 3, 3]);
    }

    #[test]
    fn no_group_has_an_x_1_control() {
        for control in controls() {
            let rest = &control.id[control.group.len() + 1..];
            assert_ne!(rest, "1", "{}", control.id);
        }
    }

    #[test]
    fn looks_up_by_id_and_names_unknown_ids() {
        assert_eq!(
            control("A.6.2.8").map(|c| c.title.as_str()),
            Ok("AI system recording of event logs")
        );
        let err = control("A.11.2").unwrap_err();
        assert!(err.to_string().contains("A.11.2"));
        assert_eq!(clause("6.1.3").map(|c| c.parent.as_deref()), Ok(Some("6")));
        assert!(clause("11").is_err());
    }
}
