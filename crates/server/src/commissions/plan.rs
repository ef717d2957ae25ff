//! The compensation plan the server pays with: a TOML file named by the environment, or
//! the bundled demo plan; validated when loaded and identified by the SHA-256 of its text.

use std::path::{Path, PathBuf};

use canopy_core::comp::{Plan, PlanError};
use ring::digest::{SHA256, digest};

use crate::storage::PlanRecord;

/// The environment variable naming the plan file (the demo plan if unset).
pub const PLAN_ENV: &str = "CANOPY_SERVER_COMMISSIONS_PLAN";

const BUNDLED: &str = include_str!("../../../core/plans/demo.toml");

/// Why the plan could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PlanLoadError {
    #[error("cannot read the compensation plan {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the compensation plan {path} is not valid: {source}")]
    Invalid { path: String, source: PlanError },
}

/// A validated plan and the record a run stores with it.
#[derive(Debug, Clone)]
pub struct CommissionPlan {
    plan: Plan,
    record: PlanRecord,
}

impl CommissionPlan {
    /// The demo company's plan, built into the server.
    pub fn bundled() -> Result<Self, PlanLoadError> {
        Self::parse(BUNDLED.to_owned(), "(bundled demo plan)")
    }

    pub fn from_file(path: &Path) -> Result<Self, PlanLoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanLoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(text, &path.display().to_string())
    }

    /// `path` if given, else the file named by [`PLAN_ENV`], else the bundled plan.
    pub fn load(path: Option<&Path>) -> Result<Self, PlanLoadError> {
        match path {
            Some(p) => Self::from_file(p),
            None => match std::env::var_os(PLAN_ENV) {
                Some(p) if !p.is_empty() => Self::from_file(Path::new(&p)),
                _ => Self::bundled(),
            },
        }
    }

    /// Parses and validates `text`; `origin` names it in errors.
    pub fn parse(text: String, origin: &str) -> Result<Self, PlanLoadError> {
        let plan = Plan::from_toml(&text).map_err(|source| PlanLoadError::Invalid {
            path: origin.to_owned(),
            source,
        })?;
        let hash = data_encoding::HEXLOWER.encode(digest(&SHA256, text.as_bytes()).as_ref());
        let record = PlanRecord {
            hash,
            version: plan.version(),
            name: plan.name().to_owned(),
            toml: text,
        };
        Ok(Self { plan, record })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn record(&self) -> &PlanRecord {
        &self.record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_plan_loads_and_a_broken_one_names_its_file() {
        let plan = CommissionPlan::bundled().unwrap();
        assert_eq!(plan.record().hash.len(), 64);
        let err = CommissionPlan::parse("version = 1\nbogus = 2".to_owned(), "plan.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("the compensation plan plan.toml is not valid"),
            "{err}"
        );
    }
}
