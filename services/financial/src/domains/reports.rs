//! Reports: income and expense by period, category or event; open payables.

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use marquee_guard::Ctx;
use marquee_kit::extract::{Issues, Validate};
use marquee_kit::{ApiError, Data, FieldIssue, Query};
use serde::{Deserialize, Serialize};

use crate::domains::records::model::{BookedSum, Kind, Record, SummaryGroup};
use crate::domains::records::repo as records;
use crate::error::Error;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GroupBy {
    #[default]
    Category,
    Event,
    Month,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    #[serde(default)]
    pub group_by: GroupBy,
}

impl Validate for SummaryQuery {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let (Some(from), Some(to)) = (self.from, self.to) {
            issues.check(to > from, "to", "must be after from");
        }
        issues.finish()
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub group: String,
    pub currency: String,
    pub income: i64,
    pub expense: i64,
    pub net: i64,
}

/// Approved and paid records in the period, summed per group and currency
/// by the database.
pub async fn summary(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(q): Query<SummaryQuery>,
) -> Result<Data<Vec<Line>>, ApiError> {
    let group = match q.group_by {
        GroupBy::Category => SummaryGroup::Category,
        GroupBy::Event => SummaryGroup::Event,
        GroupBy::Month => SummaryGroup::Month,
    };
    let sums = records::booked_sums(&state.reads, ctx.company_id, q.from, q.to, group).await.map_err(Error::from)?;
    Ok(Data(lines(sums)?))
}

/// One line per group and currency, income beside expense. A total past what
/// an amount can hold is refused rather than shown wrong.
fn lines(sums: Vec<BookedSum>) -> Result<Vec<Line>, Error> {
    let mut totals: BTreeMap<(String, String), (i128, i128)> = BTreeMap::new();
    for sum in sums {
        let total = totals.entry((sum.group, sum.currency)).or_default();
        match sum.kind {
            Kind::Income => total.0 += sum.amount,
            Kind::Expense => total.1 += sum.amount,
        }
    }
    let fit = |n: i128| {
        i64::try_from(n).map_err(|_| Error::field("from", "the totals are too large: report a shorter period"))
    };
    totals
        .into_iter()
        .map(|((group, currency), (income, expense))| {
            Ok(Line { group, currency, income: fit(income)?, expense: fit(expense)?, net: fit(income - expense)? })
        })
        .collect()
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenPayables {
    pub items: Vec<Record>,
    pub totals: BTreeMap<String, i64>,
}

/// Approved expenses not yet paid.
pub async fn open_payables(Ctx(ctx): Ctx, State(state): State<AppState>) -> Result<Data<OpenPayables>, ApiError> {
    let items = records::open_payables(&state.reads, ctx.company_id).await.map_err(Error::from)?;
    let mut totals = BTreeMap::new();
    for r in &items {
        let t: &mut i64 = totals.entry(r.currency.clone()).or_default();
        *t = t.saturating_add(r.amount);
    }
    Ok(Data(OpenPayables { items, totals }))
}
