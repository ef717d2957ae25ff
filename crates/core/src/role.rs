//! The role of a sign-in account, which decides what the server lets it see and do.
//! The client only displays it; enforcement lives on the server.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees their own downline, orders and earnings.
    Distributor,
    /// Reviews one or more teams.
    Manager,
    /// Company staff: configuration, support, GDPR requests.
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("Unknown role; expected distributor, manager or admin")]
    Unknown,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Distributor, Role::Manager, Role::Admin];

    /// The name shown to people.
    pub const fn label(self) -> &'static str {
        match self {
            Role::Distributor => "Distributor",
            Role::Manager => "Manager",
            Role::Admin => "Admin",
        }
    }

    /// The stable key used on the wire and in storage (same as serde).
    pub const fn key(self) -> &'static str {
        match self {
            Role::Distributor => "distributor",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

display_from_label!(Role);

impl std::str::FromStr for Role {
    type Err = RoleError;

    /// Parses the key (`"manager"`), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.key().eq_ignore_ascii_case(s.trim()))
            .ok_or(RoleError::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_serde_agree() {
        let cases = [
            (Role::Distributor, "Distributor", "\"distributor\""),
            (Role::Manager, "Manager", "\"manager\""),
            (Role::Admin, "Admin", "\"admin\""),
        ];
        for (role, label, json) in cases {
            assert_eq!(role.to_string(), label);
            assert_eq!(serde_json::to_string(&role).unwrap(), json);
            assert_eq!(serde_json::from_str::<Role>(json).unwrap(), role);
            assert_eq!(role.key().parse::<Role>(), Ok(role));
            assert_eq!(label.parse::<Role>(), Ok(role));
        }
        assert_eq!(
            "owner".parse::<Role>().unwrap_err().to_string(),
            "Unknown role; expected distributor, manager or admin"
        );
    }
}
