//! `basic.checkin.scan`: what a door scanner needs and nothing more. Every
//! plan that held all of the basic module's permissions holds this one too,
//! so companies keep everything their package gave them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::m20261122_000001_schema::{Permissions, Plans};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCAN: &str = "basic.checkin.scan";

fn custom(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(e.to_string())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_basic_permissions(manager, &[(SCAN, "Scan tickets at the door")]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        remove_permissions(manager, &[SCAN]).await
    }
}

/// Adds permissions to the basic module; every plan that held all of the
/// module's permissions holds the new ones too.
pub(crate) async fn add_basic_permissions(manager: &SchemaManager<'_>, added: &[(&str, &str)]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let basic: Vec<String> = db
        .query_all(
            &Query::select()
                .column(Permissions::Code)
                .from(Permissions::Table)
                .and_where(Expr::col(Permissions::ModuleCode).eq("basic"))
                .to_owned(),
        )
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "code"))
        .collect::<Result<_, _>>()?;
    for (code, description) in added {
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Permissions::Table)
                    .columns([Permissions::Code, Permissions::ModuleCode, Permissions::Description])
                    .values([(*code).into(), "basic".into(), (*description).into()])
                    .map_err(custom)?
                    .to_owned(),
            )
            .await?;
    }
    let plans =
        db.query_all(&Query::select().columns([Plans::Id, Plans::Permissions]).from(Plans::Table).to_owned()).await?;
    for plan in plans {
        let id: uuid::Uuid = plan.try_get("", "id")?;
        let stored: String = plan.try_get("", "permissions")?;
        let mut permissions: Vec<String> = serde_json::from_str(&stored).map_err(custom)?;
        if !basic.iter().all(|p| permissions.contains(p)) {
            continue;
        }
        for (code, _) in added {
            if !permissions.iter().any(|p| p == code) {
                permissions.push((*code).to_owned());
            }
        }
        let update = Query::update()
            .table(Plans::Table)
            .value(Plans::Permissions, serde_json::to_string(&permissions).map_err(custom)?)
            .and_where(Expr::col(Plans::Id).eq(id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}

pub(crate) async fn remove_permissions(manager: &SchemaManager<'_>, codes: &[&str]) -> Result<(), DbErr> {
    for code in codes {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Permissions::Table)
                    .and_where(Expr::col(Permissions::Code).eq(*code))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}
