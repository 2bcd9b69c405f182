use chrono::{DateTime, NaiveDate, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The largest amount one posting may carry, in minor units.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Asset,
    Liability,
    Equity,
    Income,
    Expense,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asset => "asset",
            Self::Liability => "liability",
            Self::Equity => "equity",
            Self::Income => "income",
            Self::Expense => "expense",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Asset, Self::Liability, Self::Equity, Self::Income, Self::Expense].into_iter().find(|k| k.as_str() == s)
    }

    /// Debit-normal accounts grow with debits; the others with credits.
    pub fn debit_normal(self) -> bool {
        matches!(self, Self::Asset | Self::Expense)
    }

    /// A stored (debit-positive) balance as the account's own sign.
    pub fn natural(self, debit_positive: i64) -> i64 {
        if self.debit_normal() { debit_positive } else { debit_positive.saturating_neg() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Debit,
    Credit,
}

/// The accounts the ledger keeps for itself, one per currency, coded
/// `{name}:{CURRENCY}`: facts from base and the records and settlements
/// workflows post to them. Their code family is reserved: nobody creates an
/// account whose code starts with one of these names and a colon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum System {
    Cash,
    Expenses,
    Payables,
    Receivables,
    Income,
    EventResults,
    SettlementPayables,
}

impl System {
    pub const ALL: [Self; 7] = [
        Self::Cash,
        Self::Expenses,
        Self::Payables,
        Self::Receivables,
        Self::Income,
        Self::EventResults,
        Self::SettlementPayables,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::Expenses => "expenses",
            Self::Payables => "payables",
            Self::Receivables => "receivables",
            Self::Income => "income",
            Self::EventResults => "event_results",
            Self::SettlementPayables => "settlement_payables",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Self::Cash | Self::Receivables => Kind::Asset,
            Self::Expenses => Kind::Expense,
            Self::Payables | Self::SettlementPayables => Kind::Liability,
            Self::Income => Kind::Income,
            Self::EventResults => Kind::Equity,
        }
    }

    pub fn code(self, currency: &str) -> String {
        format!("{}:{currency}", self.name())
    }
}

/// Whether `code` belongs to the system accounts' family (`cash:…`,
/// `income:…`, …, in any letter case).
pub fn reserved_code(code: &str) -> bool {
    code.split_once(':').is_some_and(|(prefix, _)| System::ALL.iter().any(|s| s.name().eq_ignore_ascii_case(prefix)))
}

pub fn valid_currency(c: &str) -> bool {
    c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase())
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: Kind,
    pub currency: String,
    pub no_negative: bool,
    /// In the account's own sign: what an asset holds, what a liability owes.
    pub balance: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAccount {
    pub code: String,
    pub name: String,
    pub kind: Kind,
    pub currency: String,
    #[serde(default)]
    pub no_negative: bool,
}

impl Validate for NewAccount {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(
            (1..=64).contains(&self.code.len())
                && self.code.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)),
            "code",
            "must be 1 to 64 letters, digits, '-', '_', '.' or ':'",
        );
        issues.text("name", &self.name, 200);
        issues.check(valid_currency(&self.currency), "currency", "must be an ISO-4217 code such as EUR");
        issues.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostingIn {
    pub account_id: Uuid,
    pub direction: Direction,
    /// Positive minor units.
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntryIn {
    pub description: String,
    pub effective_date: NaiveDate,
    #[serde(default)]
    pub reference: Option<String>,
    /// A replay with the same key returns the original entry.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    pub postings: Vec<PostingIn>,
}

impl PostingIn {
    /// Debit-positive signed amount.
    pub fn signed(&self) -> i64 {
        match self.direction {
            Direction::Debit => self.amount,
            Direction::Credit => -self.amount,
        }
    }
}

impl Validate for EntryIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("description", &self.description, 500);
        if let Some(r) = &self.reference {
            issues.text("reference", r, 200);
        }
        if let Some(k) = &self.idempotency_key {
            issues.key("idempotencyKey", k, 200);
        }
        issues.check((2..=100).contains(&self.postings.len()), "postings", "an entry has 2 to 100 postings");
        for (i, p) in self.postings.iter().enumerate() {
            issues.check(
                (1..=MAX_AMOUNT).contains(&p.amount),
                &format!("postings[{i}].amount"),
                format!("must be between 1 and {MAX_AMOUNT} minor units"),
            );
            issues.check(
                valid_currency(&p.currency),
                &format!("postings[{i}].currency"),
                "must be an ISO-4217 code such as EUR",
            );
        }
        if let Some(issue) = imbalance(&self.postings) {
            issues.add("postings", issue);
        }
        issues.finish()
    }
}

/// Why the postings do not balance per currency, if they do not.
pub fn imbalance(postings: &[PostingIn]) -> Option<String> {
    let mut totals: std::collections::BTreeMap<&str, (i128, i128)> = Default::default();
    for p in postings {
        let t = totals.entry(p.currency.as_str()).or_default();
        match p.direction {
            Direction::Debit => t.0 += i128::from(p.amount),
            Direction::Credit => t.1 += i128::from(p.amount),
        }
    }
    let off: Vec<String> = totals
        .into_iter()
        .filter(|(_, (d, c))| d != c)
        .map(|(cur, (d, c))| format!("{cur}: debits {d} ≠ credits {c}"))
        .collect();
    (!off.is_empty()).then(|| format!("debits and credits must balance per currency ({})", off.join("; ")))
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Posting {
    pub account_id: Uuid,
    pub direction: Direction,
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: Uuid,
    pub description: String,
    pub effective_date: NaiveDate,
    pub reference: Option<String>,
    pub idempotency_key: Option<String>,
    pub reverses_id: Option<Uuid>,
    pub reversed_by_id: Option<Uuid>,
    pub postings: Vec<Posting>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReverseIn {
    pub description: Option<String>,
    pub effective_date: Option<NaiveDate>,
}

impl Validate for ReverseIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(d) = &self.description {
            issues.text("description", d, 500);
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatementLine {
    pub entry_id: Uuid,
    pub effective_date: NaiveDate,
    pub description: String,
    pub direction: Direction,
    pub amount: i64,
    /// The account's balance after this line, in its own sign.
    pub balance: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyTotals {
    pub currency: String,
    pub debits: i64,
    pub credits: i64,
    /// Always zero in a consistent ledger.
    pub difference: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrialBalance {
    pub accounts: Vec<Account>,
    pub totals: Vec<CurrencyTotals>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct AtDate {
    pub at: Option<NaiveDate>,
}

impl Validate for AtDate {}
