//! The module catalog: which modules exist and which permissions each has.
//! It is data (seeded by migrations), loaded once at start.

pub mod repo;
pub mod routes;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    pub code: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Module {
    pub code: String,
    pub name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    modules: Vec<Module>,
    module_of: HashMap<String, String>,
}

impl Catalog {
    pub fn new(modules: Vec<Module>) -> Self {
        let module_of =
            modules.iter().flat_map(|m| m.permissions.iter().map(|p| (p.code.clone(), m.code.clone()))).collect();
        Self { modules, module_of }
    }

    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    pub fn has_module(&self, code: &str) -> bool {
        self.modules.iter().any(|m| m.code == code)
    }

    /// The module a permission belongs to, if the permission exists.
    pub fn module_of(&self, permission: &str) -> Option<&str> {
        self.module_of.get(permission).map(String::as_str)
    }

    /// Every permission of the given modules.
    pub fn permissions_of<'a>(&'a self, modules: &'a BTreeSet<String>) -> impl Iterator<Item = &'a str> + 'a {
        self.modules
            .iter()
            .filter(|m| modules.contains(&m.code))
            .flat_map(|m| m.permissions.iter().map(|p| p.code.as_str()))
    }
}
