//! `basic.webhook.view` and `basic.webhook.manage`: who may see a company's
//! webhook endpoints and their delivery log, and who may change them (their
//! secrets included). Plans that held the whole basic module hold both.

use sea_orm_migration::prelude::*;

use crate::m20261203_000004_checkin_scan::{add_basic_permissions, remove_permissions};

#[derive(DeriveMigrationName)]
pub struct Migration;

const VIEW: &str = "basic.webhook.view";
const MANAGE: &str = "basic.webhook.manage";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_basic_permissions(
            manager,
            &[(VIEW, "See webhook endpoints and their deliveries"), (MANAGE, "Create, change and redeliver webhooks")],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        remove_permissions(manager, &[VIEW, MANAGE]).await
    }
}
