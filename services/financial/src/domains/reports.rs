//! Reports: income and expense by period, category or event; open payables.

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use marquee_guard::Ctx;
use marquee_kit::extract::{Issues, Validate};
use marquee_kit::{ApiError, Data, FieldIssue, Query};
use serde::{Deserialize, Serialize};

use crate::domains::records::model::{Kind, Record, Status};
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

/// Approved and paid records in the period, summed per group and currency.
pub async fn summary(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(q): Query<SummaryQuery>,
) -> Result<Data<Vec<Line>>, ApiError> {
    let mut sums: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for r in records::all(&state.reads, ctx.company_id, None).await.map_err(Error::from)? {
        let booked = matches!(r.status, Status::Approved | Status::Paid);
        let in_period = q.from.is_none_or(|f| r.created_at >= f) && q.to.is_none_or(|t| r.created_at < t);
        if !booked || !in_period {
            continue;
        }
        let group = match q.group_by {
            GroupBy::Category => r.category.clone(),
            GroupBy::Event => r.event_id.map_or_else(|| "none".to_owned(), |e| e.to_string()),
            GroupBy::Month => r.created_at.format("%Y-%m").to_string(),
        };
        let s = sums.entry((group, r.currency.clone())).or_default();
        match r.kind {
            Kind::Income => s.0 = s.0.saturating_add(r.amount),
            Kind::Expense => s.1 = s.1.saturating_add(r.amount),
        }
    }
    Ok(Data(
        sums.into_iter()
            .map(|((group, currency), (income, expense))| Line {
                group,
                currency,
                income,
                expense,
                net: income - expense,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenPayables {
    pub items: Vec<Record>,
    pub totals: BTreeMap<String, i64>,
}

/// Approved expenses not yet paid.
pub async fn open_payables(Ctx(ctx): Ctx, State(state): State<AppState>) -> Result<Data<OpenPayables>, ApiError> {
    let items: Vec<Record> = records::all(&state.reads, ctx.company_id, None)
        .await
        .map_err(Error::from)?
        .into_iter()
        .filter(|r| r.kind == Kind::Expense && r.status == Status::Approved)
        .collect();
    let mut totals = BTreeMap::new();
    for r in &items {
        let t: &mut i64 = totals.entry(r.currency.clone()).or_default();
        *t = t.saturating_add(r.amount);
    }
    Ok(Data(OpenPayables { items, totals }))
}
