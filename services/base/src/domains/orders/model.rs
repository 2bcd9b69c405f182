use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::artists::model::check_email;
use crate::domains::ticketing::model::MAX_CAPACITY;

/// Seats shared by several ticket types (a hall's 2,000 for GA, VIP and
/// Early Bird): a type sells only while each quota it is in has room.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quota {
    pub id: Uuid,
    pub event_id: Uuid,
    pub name: String,
    pub size: u32,
    /// Seats of paid orders and confirmed registrations.
    pub sold: u32,
    /// Seats held by open reservations and by vouchers' blocks.
    pub held: u32,
    pub ticket_type_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuotaIn {
    pub name: String,
    pub size: u32,
    pub ticket_type_ids: Vec<Uuid>,
}

impl Validate for QuotaIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        issues.check((1..=MAX_CAPACITY).contains(&self.size), "size", format!("must be between 1 and {MAX_CAPACITY}"));
        issues.check((1..=50).contains(&self.ticket_type_ids.len()), "ticketTypeIds", "must name 1 to 50 ticket types");
        issues.check(distinct(&self.ticket_type_ids), "ticketTypeIds", "must not name a ticket type twice");
        issues.finish()
    }
}

fn distinct(ids: &[Uuid]) -> bool {
    let mut seen = std::collections::HashSet::new();
    ids.iter().all(|id| seen.insert(*id))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Seats held until `expiresAt`, waiting for payment.
    Reserved,
    /// Paid: its tickets are issued.
    Paid,
    /// Every ticket refunded.
    Refunded,
    /// Canceled before payment.
    Canceled,
    /// Not paid in time: its seats went back.
    Expired,
}

impl OrderStatus {
    pub const ALL: [Self; 5] = [Self::Reserved, Self::Paid, Self::Refunded, Self::Canceled, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Paid => "paid",
            Self::Refunded => "refunded",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attendee {
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub ticket_type_id: Uuid,
    pub quantity: u32,
    pub unit_price_minor: i64,
    /// Taken off each seat of this item by the voucher.
    pub discount_minor: i64,
    /// Seats of this item that used the voucher.
    pub voucher_seats: u32,
    pub attendees: Vec<Attendee>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Valid,
    Refunded,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Valid, Self::Refunded].into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: Uuid,
    pub order_id: Uuid,
    pub event_id: Uuid,
    pub ticket_type_id: Uuid,
    pub attendee_name: Option<String>,
    pub attendee_email: Option<String>,
    /// What was paid for this seat, after any voucher.
    pub price_minor: i64,
    pub status: TicketStatus,
    /// The signed ticket to present at the door (a compact JWS, EdDSA, with
    /// the ticket `t`, event `e` and ticket type `y`); absent once refunded.
    pub token: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: Uuid,
    pub event_id: Uuid,
    pub status: OrderStatus,
    pub buyer_name: Option<String>,
    pub buyer_email: Option<String>,
    pub items: Vec<OrderItem>,
    pub currency: String,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub total_minor: i64,
    /// Given back so far, after refund fees.
    pub refunded_minor: i64,
    pub voucher_id: Option<Uuid>,
    pub idempotency_key: String,
    /// Until when a reservation holds its seats.
    pub expires_at: DateTime<Utc>,
    pub payment_ref: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    /// One per seat, once paid.
    pub tickets: Vec<Ticket>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemIn {
    pub ticket_type_id: Uuid,
    pub quantity: u32,
    /// One per seat when given.
    pub attendees: Option<Vec<Attendee>>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderIn {
    pub items: Vec<ItemIn>,
    pub voucher_code: Option<String>,
    pub buyer_name: Option<String>,
    pub buyer_email: Option<String>,
    /// The same key with the same order answers the first order again.
    pub idempotency_key: String,
}

impl Validate for OrderIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check((1..=20).contains(&self.items.len()), "items", "must hold 1 to 20 items");
        let types: Vec<Uuid> = self.items.iter().map(|i| i.ticket_type_id).collect();
        issues.check(distinct(&types), "items", "must not name a ticket type twice");
        for (n, item) in self.items.iter().enumerate() {
            issues.check(
                (1..=100).contains(&item.quantity),
                &format!("items[{n}].quantity"),
                "must be between 1 and 100",
            );
            if let Some(attendees) = &item.attendees {
                issues.check(
                    attendees.len() == item.quantity as usize,
                    &format!("items[{n}].attendees"),
                    "must name one attendee per seat",
                );
                for (a, attendee) in attendees.iter().enumerate() {
                    issues.text(&format!("items[{n}].attendees[{a}].name"), &attendee.name, 200);
                    if let Some(email) = &attendee.email {
                        check_email(&mut issues, &format!("items[{n}].attendees[{a}].email"), email);
                    }
                }
            }
        }
        if let Some(code) = &self.voucher_code {
            issues.text("voucherCode", code, 64);
        }
        if let Some(name) = &self.buyer_name {
            issues.text("buyerName", name, 200);
        }
        if let Some(email) = &self.buyer_email {
            check_email(&mut issues, "buyerEmail", email);
        }
        issues.text("idempotencyKey", &self.idempotency_key, 200);
        issues.finish()
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmIn {
    /// The payment provider's reference; confirming again with the same one is a replay.
    pub payment_ref: String,
}

impl Validate for ConfirmIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("paymentRef", &self.payment_ref, 200);
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundIn {
    /// The tickets to refund; every ticket not yet refunded when absent.
    pub ticket_ids: Option<Vec<Uuid>>,
    /// Kept from the refund (a handling fee), in minor units.
    #[serde(default)]
    pub fee_minor: i64,
}

impl Validate for RefundIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(ids) = &self.ticket_ids {
            issues.check((1..=2000).contains(&ids.len()), "ticketIds", "must name 1 to 2000 tickets");
            issues.check(distinct(ids), "ticketIds", "must not name a ticket twice");
        }
        issues.check(self.fee_minor >= 0, "feeMinor", "must be 0 or more");
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
}

impl Validate for OrderFilter {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscountKind {
    /// `discountValue` minor units off each seat (never below 0).
    Fixed,
    /// `discountValue` percent off each seat, rounded half up to the minor unit.
    Percent,
}

impl DiscountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Percent => "percent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Fixed, Self::Percent].into_iter().find(|x| x.as_str() == s)
    }

    /// What comes off one seat of `price`.
    pub fn off(self, value: i64, price: i64) -> i64 {
        match self {
            Self::Fixed => value.min(price),
            Self::Percent => (price.saturating_mul(value) + 50) / 100,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Voucher {
    pub id: Uuid,
    pub event_id: Uuid,
    pub code: String,
    pub discount_kind: DiscountKind,
    pub discount_value: i64,
    /// The ticket types it applies to; every type of the event when empty.
    pub ticket_type_ids: Vec<Uuid>,
    /// Seats that may be bought with it.
    pub max_uses: u32,
    /// Seats bought or reserved with it.
    pub uses: u32,
    pub valid_until: Option<DateTime<Utc>>,
    /// Its seats are held for it from its creation (one ticket type only).
    pub block_quota: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoucherIn {
    pub code: String,
    pub discount_kind: DiscountKind,
    pub discount_value: i64,
    #[serde(default)]
    pub ticket_type_ids: Vec<Uuid>,
    pub max_uses: u32,
    pub valid_until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub block_quota: bool,
}

impl Validate for VoucherIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        let code = self.code.trim();
        issues.check(
            (3..=64).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "code",
            "must be 3 to 64 letters, digits, '-' or '_'",
        );
        match self.discount_kind {
            DiscountKind::Fixed => issues.check(
                (0..=100_000_000_000).contains(&self.discount_value),
                "discountValue",
                "must be 0 or more minor units",
            ),
            DiscountKind::Percent => issues.check(
                (0..=100).contains(&self.discount_value),
                "discountValue",
                "must be a percent from 0 to 100",
            ),
        }
        issues.check(self.ticket_type_ids.len() <= 50, "ticketTypeIds", "must name at most 50 ticket types");
        issues.check(distinct(&self.ticket_type_ids), "ticketTypeIds", "must not name a ticket type twice");
        issues.check(
            (1..=MAX_CAPACITY).contains(&self.max_uses),
            "maxUses",
            format!("must be between 1 and {MAX_CAPACITY}"),
        );
        if self.block_quota {
            issues.check(
                self.ticket_type_ids.len() == 1,
                "ticketTypeIds",
                "a voucher that blocks seats names exactly one ticket type",
            );
        }
        issues.finish()
    }
}
