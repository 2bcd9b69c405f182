//! The one table of financial's protected routes and their permissions.

use axum::http::Method;
use marquee_guard::{Guard, RouteTable};

use crate::domains::ledger::routes as ledger;
use crate::domains::records::routes as records;
use crate::domains::reports;
use crate::domains::settlements::routes as settlements;
use crate::state::AppState;

pub fn table(guard: Guard) -> RouteTable<AppState> {
    RouteTable::new(guard)
        .route(Method::GET, "/v1/ledger/accounts", "financial.ledger.view", ledger::accounts)
        .route(Method::POST, "/v1/ledger/accounts", "financial.ledger.post", ledger::create_account)
        .route(Method::GET, "/v1/ledger/accounts/{id}", "financial.ledger.view", ledger::account)
        .route(Method::GET, "/v1/ledger/accounts/{id}/balance", "financial.ledger.view", ledger::balance)
        .route(Method::GET, "/v1/ledger/accounts/{id}/statement", "financial.ledger.view", ledger::statement)
        .route(Method::GET, "/v1/ledger/entries", "financial.ledger.view", ledger::entries)
        .route(Method::POST, "/v1/ledger/entries", "financial.ledger.post", ledger::post)
        .route(Method::GET, "/v1/ledger/entries/{id}", "financial.ledger.view", ledger::entry)
        .route(Method::POST, "/v1/ledger/entries/{id}/reverse", "financial.ledger.post", ledger::reverse)
        .route(Method::GET, "/v1/ledger/trial-balance", "financial.ledger.view", ledger::trial_balance)
        .route(Method::GET, "/v1/expenses", "financial.expense.view", records::list::<true>)
        .route(Method::POST, "/v1/expenses", "financial.expense.create", records::create::<true>)
        .route(Method::GET, "/v1/expenses/{id}", "financial.expense.view", records::show::<true>)
        .route(Method::PUT, "/v1/expenses/{id}", "financial.expense.edit", records::update::<true>)
        .route(Method::POST, "/v1/expenses/{id}/submit", "financial.expense.edit", records::submit::<true>)
        .route(Method::POST, "/v1/expenses/{id}/approve", "financial.expense.approve", records::approve::<true>)
        .route(Method::POST, "/v1/expenses/{id}/reject", "financial.expense.approve", records::reject::<true>)
        .route(Method::POST, "/v1/expenses/{id}/pay", "financial.expense.approve", records::pay::<true>)
        .route(Method::GET, "/v1/incomes", "financial.income.view", records::list::<false>)
        .route(Method::POST, "/v1/incomes", "financial.income.create", records::create::<false>)
        .route(Method::GET, "/v1/incomes/{id}", "financial.income.view", records::show::<false>)
        .route(Method::PUT, "/v1/incomes/{id}", "financial.income.edit", records::update::<false>)
        .route(Method::POST, "/v1/incomes/{id}/submit", "financial.income.edit", records::submit::<false>)
        .route(Method::POST, "/v1/incomes/{id}/approve", "financial.income.approve", records::approve::<false>)
        .route(Method::POST, "/v1/incomes/{id}/reject", "financial.income.approve", records::reject::<false>)
        .route(Method::POST, "/v1/incomes/{id}/pay", "financial.income.approve", records::pay::<false>)
        .route(Method::GET, "/v1/settlements", "financial.settlement.view", settlements::list)
        .route(Method::POST, "/v1/settlements", "financial.settlement.create", settlements::create)
        .route(Method::GET, "/v1/settlements/preview", "financial.settlement.view", settlements::preview)
        .route(Method::GET, "/v1/settlements/{id}", "financial.settlement.view", settlements::show)
        .route(Method::GET, "/v1/settlements/{id}/sheet", "financial.settlement.view", settlements::sheet)
        .route(Method::POST, "/v1/settlements/{id}/finalize", "financial.settlement.finalize", settlements::finalize)
        .route(Method::POST, "/v1/settlements/{id}/void", "financial.settlement.finalize", settlements::void)
        .route(Method::POST, "/v1/settlements/{id}/payouts", "financial.payout.create", settlements::pay)
        .route(Method::GET, "/v1/payouts", "financial.payout.view", settlements::payouts)
        .route(Method::GET, "/v1/reports/summary", "financial.report.view", reports::summary)
        .route(Method::GET, "/v1/reports/open-payables", "financial.report.view", reports::open_payables)
        .route(Method::GET, "/v1/parked-facts", "financial.ledger.view", records::parked)
}
