//! Roles and permissions. The domain names what each role may do; callers check before acting
//! and, when the cashier may not, ask for a manager's PIN and record who approved.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Sell,
    LineDiscount,
    OrderDiscount,
    PriceOverride,
    VoidLine,
    VoidSale,
    NoSale,
    Refund,
    CashInOut,
    EndOfDay,
    ManageUsers,
    ManageSettings,
    /// Open the register for a shift, counting the float (cash management).
    OpenRegister,
    /// See everyone's hours and correct a shift (staff).
    ManageShifts,
    /// Read the audit trail and run its verification (staff).
    ViewAudit,
    /// Give a customer an account or change its credit limit (stored value).
    CustomerCredit,
}

impl Permission {
    pub const ALL: [Permission; 16] = [
        Permission::Sell,
        Permission::LineDiscount,
        Permission::OrderDiscount,
        Permission::PriceOverride,
        Permission::VoidLine,
        Permission::VoidSale,
        Permission::NoSale,
        Permission::Refund,
        Permission::CashInOut,
        Permission::EndOfDay,
        Permission::ManageUsers,
        Permission::ManageSettings,
        Permission::OpenRegister,
        Permission::ManageShifts,
        Permission::ViewAudit,
        Permission::CustomerCredit,
    ];
}

impl Permission {
    /// The permission's code, as sessions and error parameters carry it ("line_discount").
    pub const fn code(self) -> &'static str {
        match self {
            Permission::Sell => "sell",
            Permission::LineDiscount => "line_discount",
            Permission::OrderDiscount => "order_discount",
            Permission::PriceOverride => "price_override",
            Permission::VoidLine => "void_line",
            Permission::VoidSale => "void_sale",
            Permission::NoSale => "no_sale",
            Permission::Refund => "refund",
            Permission::CashInOut => "cash_in_out",
            Permission::EndOfDay => "end_of_day",
            Permission::ManageUsers => "manage_users",
            Permission::ManageSettings => "manage_settings",
            Permission::OpenRegister => "open_register",
            Permission::ManageShifts => "manage_shifts",
            Permission::ViewAudit => "view_audit",
            Permission::CustomerCredit => "customer_credit",
        }
    }
}

/// Why a discount was given, a price overridden or a sale voided: the short list the approval
/// dialog offers. `"other"` needs a note in words.
pub const ADJUSTMENT_REASONS: [&str; 6] = [
    "damaged",
    "price_match",
    "customer_care",
    "staff",
    "promotion",
    "other",
];

/// A reason from [`ADJUSTMENT_REASONS`] with an optional note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    /// No reason, or "other" without a note.
    #[error("say why: pick a reason (and describe it when it is \"other\")")]
    Missing,
    #[error("unknown reason")]
    Unknown,
}

/// The longest note kept with a reason, in characters.
pub const MAX_REASON_NOTE: usize = 200;

impl Reason {
    /// Checks a reason as typed: a known code, a note for "other"; the note is trimmed (and
    /// cut to [`MAX_REASON_NOTE`] characters), an empty note is none.
    pub fn parse(code: &str, note: Option<&str>) -> Result<Reason, ReasonError> {
        let code = code.trim();
        if code.is_empty() {
            return Err(ReasonError::Missing);
        }
        if !ADJUSTMENT_REASONS.contains(&code) {
            return Err(ReasonError::Unknown);
        }
        let note = note
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(MAX_REASON_NOTE).collect::<String>());
        if code == "other" && note.is_none() {
            return Err(ReasonError::Missing);
        }
        Ok(Reason {
            code: code.to_owned(),
            note,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Cashier,
    Manager,
    Admin,
}

impl Role {
    /// The built-in roles, in the order screens list them.
    pub const ALL_BUILTIN: [Role; 3] = [Role::Cashier, Role::Manager, Role::Admin];

    pub const fn code(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
    pub fn from_code(s: &str) -> Option<Role> {
        [Role::Cashier, Role::Manager, Role::Admin]
            .into_iter()
            .find(|r| r.code() == s)
    }

    /// The built-in default: what migration 0011 seeds the stored matrix with, and what a
    /// built-in role has of a permission the stored matrix has no row for. Checks go through
    /// the stored matrix (`pos_core::staff::UserRole::allows`), never through this.
    pub fn allows_by_default(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Manager => !matches!(p, ManageUsers | ManageSettings),
            Role::Cashier => matches!(p, Sell | VoidLine | OpenRegister),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cashiers_cannot_discount_or_void_a_sale() {
        assert!(Role::Cashier.allows_by_default(Permission::Sell));
        assert!(!Role::Cashier.allows_by_default(Permission::LineDiscount));
        assert!(!Role::Cashier.allows_by_default(Permission::VoidSale));
        assert!(Role::Manager.allows_by_default(Permission::VoidSale));
        assert!(!Role::Manager.allows_by_default(Permission::ManageUsers));
        assert!(
            Permission::ALL
                .iter()
                .all(|p| Role::Admin.allows_by_default(*p))
        );
    }

    #[test]
    fn permission_codes_are_the_serde_names() {
        for p in Permission::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.code());
        }
    }

    #[test]
    fn a_reason_is_a_known_code_and_other_needs_words() {
        assert_eq!(
            Reason::parse("damaged", Some("  ")).unwrap(),
            Reason {
                code: "damaged".into(),
                note: None
            }
        );
        assert_eq!(Reason::parse("", None), Err(ReasonError::Missing));
        assert_eq!(Reason::parse("other", None), Err(ReasonError::Missing));
        assert_eq!(Reason::parse("because", None), Err(ReasonError::Unknown));
        let long = "x".repeat(500);
        let r = Reason::parse("other", Some(&long)).unwrap();
        assert_eq!(r.note.unwrap().len(), MAX_REASON_NOTE);
    }
}
