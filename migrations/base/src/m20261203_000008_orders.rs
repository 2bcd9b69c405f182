//! Orders: quotas shared by ticket types, reservations that hold seats until
//! they are paid or expire, the tickets a paid order issues, refunds, and
//! vouchers with exact uses and optionally seats of their own.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TicketTypes {
    Table,
    Held,
}

#[derive(DeriveIden)]
enum Quotas {
    Table,
    Id,
    CompanyId,
    EventId,
    Name,
    Size,
    Sold,
    Held,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum QuotaTicketTypes {
    Table,
    QuotaId,
    TicketTypeId,
    CompanyId,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    CompanyId,
    EventId,
    Status,
    BuyerName,
    BuyerEmail,
    Currency,
    SubtotalMinor,
    DiscountMinor,
    TotalMinor,
    RefundedMinor,
    VoucherId,
    IdempotencyKey,
    ExpiresAt,
    PaymentRef,
    PaidAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    Id,
    OrderId,
    CompanyId,
    TicketTypeId,
    Quantity,
    UnitPriceMinor,
    DiscountMinor,
    VoucherSeats,
    Attendees,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    CompanyId,
    OrderId,
    EventId,
    TicketTypeId,
    AttendeeName,
    AttendeeEmail,
    PriceMinor,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderRefunds {
    Table,
    Id,
    CompanyId,
    OrderId,
    AmountMinor,
    FeeMinor,
    Tickets,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Vouchers {
    Table,
    Id,
    CompanyId,
    EventId,
    Code,
    DiscountKind,
    DiscountValue,
    TicketTypeIds,
    MaxUses,
    Uses,
    ValidUntil,
    BlockQuota,
    BlockReleased,
    CreatedBy,
    CreatedAt,
}

fn uuid(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).uuid().not_null().to_owned()
}

fn int(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).integer().not_null().to_owned()
}

fn money(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).big_integer().not_null().to_owned()
}

fn at(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().not_null().to_owned()
}

fn text(c: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(c).string_len(len).not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Seats held by reservations (and vouchers' blocks), beside those sold.
        manager
            .alter_table(
                Table::alter()
                    .table(TicketTypes::Table)
                    .add_column(ColumnDef::new(TicketTypes::Held).integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Quotas::Table)
                    .col(uuid(Quotas::Id).primary_key())
                    .col(uuid(Quotas::CompanyId))
                    .col(uuid(Quotas::EventId))
                    .col(text(Quotas::Name, 200))
                    .col(int(Quotas::Size))
                    .col(int(Quotas::Sold))
                    .col(int(Quotas::Held))
                    .col(uuid(Quotas::CreatedBy))
                    .col(at(Quotas::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("quotas_event")
                    .table(Quotas::Table)
                    .col(Quotas::CompanyId)
                    .col(Quotas::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QuotaTicketTypes::Table)
                    .col(uuid(QuotaTicketTypes::QuotaId))
                    .col(uuid(QuotaTicketTypes::TicketTypeId))
                    .col(uuid(QuotaTicketTypes::CompanyId))
                    .primary_key(Index::create().col(QuotaTicketTypes::QuotaId).col(QuotaTicketTypes::TicketTypeId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("quota_ticket_types_type")
                    .table(QuotaTicketTypes::Table)
                    .col(QuotaTicketTypes::TicketTypeId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(uuid(Orders::Id).primary_key())
                    .col(uuid(Orders::CompanyId))
                    .col(uuid(Orders::EventId))
                    .col(text(Orders::Status, 16))
                    .col(ColumnDef::new(Orders::BuyerName).string_len(200).null())
                    .col(ColumnDef::new(Orders::BuyerEmail).string_len(254).null())
                    .col(text(Orders::Currency, 3))
                    .col(money(Orders::SubtotalMinor))
                    .col(money(Orders::DiscountMinor))
                    .col(money(Orders::TotalMinor))
                    .col(money(Orders::RefundedMinor))
                    .col(ColumnDef::new(Orders::VoucherId).uuid().null())
                    .col(text(Orders::IdempotencyKey, 200))
                    .col(at(Orders::ExpiresAt))
                    .col(ColumnDef::new(Orders::PaymentRef).string_len(200).null())
                    .col(ColumnDef::new(Orders::PaidAt).timestamp_with_time_zone().null())
                    .col(uuid(Orders::CreatedBy))
                    .col(at(Orders::CreatedAt))
                    .col(at(Orders::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("orders_company_idempotency", vec![Orders::CompanyId, Orders::IdempotencyKey]),
            ("orders_event", vec![Orders::CompanyId, Orders::EventId, Orders::CreatedAt]),
            ("orders_expiry", vec![Orders::Status, Orders::ExpiresAt]),
        ] {
            let mut index = Index::create().name(name).table(Orders::Table).to_owned();
            for c in columns {
                index.col(c);
            }
            if name == "orders_company_idempotency" {
                index.unique();
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OrderItems::Table)
                    .col(uuid(OrderItems::Id).primary_key())
                    .col(uuid(OrderItems::OrderId))
                    .col(uuid(OrderItems::CompanyId))
                    .col(uuid(OrderItems::TicketTypeId))
                    .col(int(OrderItems::Quantity))
                    .col(money(OrderItems::UnitPriceMinor))
                    .col(money(OrderItems::DiscountMinor))
                    .col(int(OrderItems::VoucherSeats))
                    .col(ColumnDef::new(OrderItems::Attendees).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("order_items_order").table(OrderItems::Table).col(OrderItems::OrderId).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tickets::Table)
                    .col(uuid(Tickets::Id).primary_key())
                    .col(uuid(Tickets::CompanyId))
                    .col(uuid(Tickets::OrderId))
                    .col(uuid(Tickets::EventId))
                    .col(uuid(Tickets::TicketTypeId))
                    .col(ColumnDef::new(Tickets::AttendeeName).string_len(200).null())
                    .col(ColumnDef::new(Tickets::AttendeeEmail).string_len(254).null())
                    .col(money(Tickets::PriceMinor))
                    .col(text(Tickets::Status, 16))
                    .col(at(Tickets::CreatedAt))
                    .col(at(Tickets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("tickets_order").table(Tickets::Table).col(Tickets::OrderId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderRefunds::Table)
                    .col(uuid(OrderRefunds::Id).primary_key())
                    .col(uuid(OrderRefunds::CompanyId))
                    .col(uuid(OrderRefunds::OrderId))
                    .col(money(OrderRefunds::AmountMinor))
                    .col(money(OrderRefunds::FeeMinor))
                    .col(int(OrderRefunds::Tickets))
                    .col(uuid(OrderRefunds::CreatedBy))
                    .col(at(OrderRefunds::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("order_refunds_order")
                    .table(OrderRefunds::Table)
                    .col(OrderRefunds::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Vouchers::Table)
                    .col(uuid(Vouchers::Id).primary_key())
                    .col(uuid(Vouchers::CompanyId))
                    .col(uuid(Vouchers::EventId))
                    .col(text(Vouchers::Code, 64))
                    .col(text(Vouchers::DiscountKind, 8))
                    .col(money(Vouchers::DiscountValue))
                    .col(ColumnDef::new(Vouchers::TicketTypeIds).text().not_null())
                    .col(int(Vouchers::MaxUses))
                    .col(int(Vouchers::Uses))
                    .col(ColumnDef::new(Vouchers::ValidUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Vouchers::BlockQuota).boolean().not_null())
                    .col(ColumnDef::new(Vouchers::BlockReleased).boolean().not_null())
                    .col(uuid(Vouchers::CreatedBy))
                    .col(at(Vouchers::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("vouchers_event_code")
                    .table(Vouchers::Table)
                    .col(Vouchers::EventId)
                    .col(Vouchers::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Vouchers::Table.into_iden(),
            OrderRefunds::Table.into_iden(),
            Tickets::Table.into_iden(),
            OrderItems::Table.into_iden(),
            Orders::Table.into_iden(),
            QuotaTicketTypes::Table.into_iden(),
            Quotas::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(TicketTypes::Table).drop_column(TicketTypes::Held).to_owned()).await
    }
}
