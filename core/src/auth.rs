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
}

impl Permission {
    pub const ALL: [Permission; 12] = [
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
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Cashier,
    Manager,
    Admin,
}

impl Role {
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

    /// The default permission matrix. (Editable matrices and custom roles come with the staff
    /// screens; they replace this function's table, not its callers.)
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Manager => !matches!(p, ManageUsers | ManageSettings),
            Role::Cashier => matches!(p, Sell | VoidLine),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cashiers_cannot_discount_or_void_a_sale() {
        assert!(Role::Cashier.allows(Permission::Sell));
        assert!(!Role::Cashier.allows(Permission::LineDiscount));
        assert!(!Role::Cashier.allows(Permission::VoidSale));
        assert!(Role::Manager.allows(Permission::VoidSale));
        assert!(!Role::Manager.allows(Permission::ManageUsers));
        assert!(Permission::ALL.iter().all(|p| Role::Admin.allows(*p)));
    }
}
