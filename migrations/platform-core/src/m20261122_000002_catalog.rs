//! The catalog Marquee ships with, and the default package new companies
//! start on. Catalog rows are data: a new module is a new migration like this
//! one, with no code change in auth or base.

use sea_orm_migration::prelude::*;

use crate::m20261122_000001_schema::{Modules, Permissions, Plans};

#[derive(DeriveMigrationName)]
pub struct Migration;

const BASIC: &[(&str, &[&str])] = &[
    ("dashboard", &["view"]),
    ("artist", &["view", "create", "edit", "delete"]),
    ("event", &["view", "create", "edit", "delete"]),
    ("calendar", &["view", "edit"]),
    ("vendor", &["view", "create", "edit", "delete"]),
    ("venue", &["view", "create", "edit", "delete"]),
    ("ticketing", &["view", "create", "edit"]),
    ("offer", &["view", "create", "edit", "delete"]),
    ("workspace", &["view", "create", "edit", "delete"]),
    ("media", &["view", "create", "delete"]),
    ("crew", &["view", "create", "edit", "delete"]),
];

const FINANCIAL: &[(&str, &[&str])] = &[
    ("ledger", &["view", "post"]),
    ("expense", &["view", "create", "edit", "approve"]),
    ("income", &["view", "create", "edit", "approve"]),
    ("settlement", &["view", "create", "finalize"]),
    ("payout", &["view", "create"]),
    ("report", &["view"]),
];

fn permissions_of(module: &str, areas: &[(&str, &[&str])]) -> Vec<(String, String)> {
    areas
        .iter()
        .flat_map(|(area, actions)| {
            actions.iter().map(move |action| {
                (format!("{module}.{area}.{action}"), format!("{} {}", capitalise(action), area.replace('_', " ")))
            })
        })
        .collect()
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

fn custom(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(e.to_string())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let modules = [
            (
                "basic",
                "Basic",
                "Artists, venues, vendors, events, calendar, ticketing, offers, workspace, media and crew",
                BASIC,
            ),
            ("financial", "Financial", "Ledger, expenses and incomes, settlements, payouts and reports", FINANCIAL),
        ];
        let mut all_permissions = Vec::new();
        for (position, (code, name, description, areas)) in modules.iter().enumerate() {
            let position = <i32 as TryFrom<usize>>::try_from(position).map_err(custom)?;
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(Modules::Table)
                        .columns([Modules::Code, Modules::Name, Modules::Description, Modules::Position])
                        .values([(*code).into(), (*name).into(), (*description).into(), position.into()])
                        .map_err(custom)?
                        .to_owned(),
                )
                .await?;
            let mut insert = Query::insert();
            insert.into_table(Permissions::Table).columns([
                Permissions::Code,
                Permissions::ModuleCode,
                Permissions::Description,
            ]);
            for (permission, description) in permissions_of(code, areas) {
                insert.values([permission.clone().into(), (*code).into(), description.into()]).map_err(custom)?;
                all_permissions.push(permission);
            }
            manager.exec_stmt(insert.to_owned()).await?;
        }

        let limits = serde_json::json!({"maxMembers": 25, "maxEvents": 100, "storageBytes": 5_368_709_120_i64});
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Plans::Table)
                    .columns([
                        Plans::Id,
                        Plans::Kind,
                        Plans::Code,
                        Plans::Version,
                        Plans::Name,
                        Plans::Description,
                        Plans::Modules,
                        Plans::Permissions,
                        Plans::Limits,
                        Plans::CreatedAt,
                    ])
                    .values([
                        uuid::Uuid::now_v7().into(),
                        "package".into(),
                        "standard".into(),
                        1.into(),
                        "Standard".into(),
                        "Everything Marquee does, for a growing team".into(),
                        serde_json::json!(["basic", "financial"]).to_string().into(),
                        serde_json::json!(all_permissions).to_string().into(),
                        limits.to_string().into(),
                        chrono::Utc::now().into(),
                    ])
                    .map_err(custom)?
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.exec_stmt(Query::delete().from_table(Plans::Table).to_owned()).await?;
        manager.exec_stmt(Query::delete().from_table(Permissions::Table).to_owned()).await?;
        manager.exec_stmt(Query::delete().from_table(Modules::Table).to_owned()).await?;
        Ok(())
    }
}
