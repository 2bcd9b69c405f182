//! Events a company's webhooks announce (expenses approved, settlements finalized),
//! kept until base has taken them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(marquee_webhooks::feed::schema::table()).await?;
        manager.create_index(marquee_webhooks::feed::schema::index()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(marquee_webhooks::feed::schema::drop()).await
    }
}
