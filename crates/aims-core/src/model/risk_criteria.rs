//! AI risk criteria (clause 6.1.2): a configurable likelihood x impact matrix, the named risk
//! levels it produces, and the acceptance threshold.
//!
//! A risk's score is `likelihood * impact`, each counted from 1 (the first name of its scale).
//! The level is the last band whose `min_score` the score reaches. A level above the
//! acceptance threshold must be treated or explicitly accepted.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The organization's risk criteria.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskCriteria {
    /// Likelihood scale, lowest first; a likelihood value is a 1-based position in it.
    pub likelihood: Vec<String>,
    /// Impact scale, lowest first; an impact value is a 1-based position in it.
    pub impact: Vec<String>,
    /// Risk levels by score (likelihood x impact), lowest first; the first must start at 1.
    pub levels: Vec<RiskLevel>,
    /// The name of the highest level that may be accepted without treatment.
    pub acceptance_threshold: String,
}

/// One named band of risk scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskLevel {
    /// The level's name, e.g. `high`.
    pub name: String,
    /// The lowest score in this band.
    pub min_score: u32,
}

/// Why a set of criteria cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    /// A scale has no entries.
    #[error("the {0} scale is empty")]
    EmptyScale(&'static str),
    /// No levels, or the first does not start at score 1.
    #[error("the first risk level must start at min_score 1")]
    FirstLevelNotAtOne,
    /// Levels are not in strictly increasing score order.
    #[error("risk level `{0}` does not start above the level before it")]
    LevelsNotIncreasing(String),
    /// The threshold names no level.
    #[error("acceptance threshold `{0}` is not one of the risk levels")]
    UnknownThreshold(String),
}

impl Default for RiskCriteria {
    /// The common 5 x 5 matrix: low 1-4, medium 5-9, high 10-16, critical 17-25; up to
    /// medium may be accepted.
    fn default() -> Self {
        let names = |list: &[&str]| list.iter().map(|name| (*name).to_owned()).collect();
        let level = |name: &str, min_score| RiskLevel {
            name: name.to_owned(),
            min_score,
        };
        Self {
            likelihood: names(&["rare", "unlikely", "possible", "likely", "almost_certain"]),
            impact: names(&["negligible", "minor", "moderate", "major", "severe"]),
            levels: vec![
                level("low", 1),
                level("medium", 5),
                level("high", 10),
                level("critical", 17),
            ],
            acceptance_threshold: "medium".to_owned(),
        }
    }
}

impl RiskCriteria {
    /// Checks the criteria are usable: non-empty scales, levels from 1 upward, a known threshold.
    pub fn check(&self) -> Result<(), CriteriaError> {
        if self.likelihood.is_empty() {
            return Err(CriteriaError::EmptyScale("likelihood"));
        }
        if self.impact.is_empty() {
            return Err(CriteriaError::EmptyScale("impact"));
        }
        if self.levels.first().map(|level| level.min_score) != Some(1) {
            return Err(CriteriaError::FirstLevelNotAtOne);
        }
        for pair in self.levels.windows(2) {
            if pair[1].min_score <= pair[0].min_score {
                return Err(CriteriaError::LevelsNotIncreasing(pair[1].name.clone()));
            }
        }
        if self.threshold_index().is_none() {
            return Err(CriteriaError::UnknownThreshold(
                self.acceptance_threshold.clone(),
            ));
        }
        Ok(())
    }

    /// Whether a likelihood and impact pair lies on the scales.
    pub fn in_range(&self, rating: Rating) -> bool {
        (1..=self.likelihood.len()).contains(&usize::from(rating.likelihood))
            && (1..=self.impact.len()).contains(&usize::from(rating.impact))
    }

    /// The level a rating falls in; `None` when the criteria are unusable (see [`Self::check`]).
    pub fn level(&self, rating: Rating) -> Option<&RiskLevel> {
        self.levels
            .iter()
            .rev()
            .find(|level| rating.score() >= level.min_score)
    }

    /// Whether a rating is above the acceptance threshold. Unusable criteria count as above:
    /// a register that cannot say a risk is acceptable must not call it acceptable.
    pub fn above_threshold(&self, rating: Rating) -> bool {
        match (self.level_index(rating), self.threshold_index()) {
            (Some(level), Some(threshold)) => level > threshold,
            _ => true,
        }
    }

    fn level_index(&self, rating: Rating) -> Option<usize> {
        self.levels
            .iter()
            .rposition(|level| rating.score() >= level.min_score)
    }

    fn threshold_index(&self) -> Option<usize> {
        self.levels
            .iter()
            .position(|level| level.name == self.acceptance_threshold)
    }
}

/// A likelihood and impact pair, each a 1-based position on the criteria's scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    /// Likelihood, 1 = the lowest on the scale.
    #[schemars(range(min = 1))]
    pub likelihood: u8,
    /// Impact, 1 = the lowest on the scale.
    #[schemars(range(min = 1))]
    pub impact: u8,
}

impl Rating {
    /// The score: likelihood x impact.
    pub fn score(self) -> u32 {
        u32::from(self.likelihood) * u32::from(self.impact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating(likelihood: u8, impact: u8) -> Rating {
        Rating { likelihood, impact }
    }

    #[test]
    fn default_is_a_usable_five_by_five() {
        let criteria = RiskCriteria::default();
        assert_eq!(criteria.check(), Ok(()));
        assert!(criteria.in_range(rating(5, 5)));
        assert!(!criteria.in_range(rating(6, 1)));
        assert!(!criteria.in_range(rating(0, 3)));
    }

    #[test]
    fn computes_levels_and_threshold_from_the_score() {
        let criteria = RiskCriteria::default();
        let level = |l, i| {
            criteria
                .level(rating(l, i))
                .map(|level| level.name.as_str())
        };
        assert_eq!(level(1, 4), Some("low"));
        assert_eq!(level(1, 5), Some("medium"));
        assert_eq!(level(3, 3), Some("medium"));
        assert_eq!(level(2, 5), Some("high"));
        assert_eq!(level(4, 5), Some("critical"));
        assert!(!criteria.above_threshold(rating(3, 3)));
        assert!(criteria.above_threshold(rating(2, 5)));
    }

    #[test]
    fn rejects_unusable_criteria_and_treats_them_as_above_threshold() {
        let criteria = RiskCriteria {
            acceptance_threshold: "tolerable".into(),
            ..RiskCriteria::default()
        };
        assert_eq!(
            criteria.check(),
            Err(CriteriaError::UnknownThreshold("tolerable".into()))
        );
        assert!(criteria.above_threshold(rating(1, 1)));

        let mut criteria = RiskCriteria::default();
        criteria.levels[2].min_score = 5;
        assert_eq!(
            criteria.check(),
            Err(CriteriaError::LevelsNotIncreasing("high".into()))
        );

        let mut criteria = RiskCriteria::default();
        criteria.levels[0].min_score = 2;
        assert_eq!(criteria.check(), Err(CriteriaError::FirstLevelNotAtOne));

        let mut criteria = RiskCriteria::default();
        criteria.impact.clear();
        assert_eq!(criteria.check(), Err(CriteriaError::EmptyScale("impact")));
    }
}
