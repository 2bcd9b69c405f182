//! `page` in 1..=1,000,000 and `limit` in 1..=100 (default 10), validated like
//! any input: an offset beyond what a database can bind is a 400, never a panic
//! in the SQL binder.

use serde::Deserialize;

use crate::error::FieldIssue;
use crate::extract::Validate;

pub const MAX_LIMIT: u64 = 100;
pub const DEFAULT_LIMIT: u64 = 10;
/// The last page anyone may ask for: a hundred million rows in, far beyond any
/// list a client pages through, and an offset every database can bind.
pub const MAX_PAGE: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
pub struct PageParams {
    /// The page, from 1 to 1,000,000.
    #[serde(default = "first_page")]
    #[schemars(range(min = 1, max = 1_000_000))]
    page: u64,
    /// Items a page: 1 to 100, 10 by default.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 100))]
    limit: u64,
}

fn first_page() -> u64 {
    1
}

fn default_limit() -> u64 {
    DEFAULT_LIMIT
}

impl Default for PageParams {
    fn default() -> Self {
        Self { page: 1, limit: DEFAULT_LIMIT }
    }
}

impl PageParams {
    pub fn new(page: u64, limit: u64) -> Result<Self, Vec<FieldIssue>> {
        let params = Self { page, limit };
        params.validate().map(|()| params)
    }
    pub fn page(&self) -> u64 {
        self.page
    }
    pub fn limit(&self) -> u64 {
        self.limit
    }
    /// Rows to skip for this page.
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.limit)
    }
}

impl Validate for PageParams {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Vec::new();
        if !(1..=MAX_PAGE).contains(&self.page) {
            issues.push(FieldIssue::new("page", format!("must be between 1 and {MAX_PAGE}")));
        }
        if !(1..=MAX_LIMIT).contains(&self.limit) {
            issues.push(FieldIssue::new("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        if issues.is_empty() { Ok(()) } else { Err(issues) }
    }
}
