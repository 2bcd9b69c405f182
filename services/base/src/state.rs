use std::sync::Arc;

use marquee_guard::Guard;
use marquee_kit::Clock;
use sea_orm::DatabaseConnection;

use crate::config::Config;

marquee_service::app_state!(Shared);

/// Everything a request needs, built once at start.
pub struct Shared {
    pub db: DatabaseConnection,
    /// Reads of the catalogue outside any transaction (beside SQLite's one
    /// writer; PostgreSQL's pool itself).
    pub reads: DatabaseConnection,
    pub clock: Clock,
    pub config: Arc<Config>,
    pub guard: Guard,
    pub outbox: crate::outbox::Outbox,
    pub media: crate::domains::media::store::MediaStore,
    /// Seals the companies' ticket keys at rest.
    pub ticket_sealer: marquee_kit::Sealer,
    /// Each company's current ticket signer, unsealed once: every order
    /// answer with tickets signs them.
    pub signers: moka::sync::Cache<uuid::Uuid, std::sync::Arc<crate::domains::checkin::keys::Signer>>,
    /// Mail waiting to leave (waiting-list offers).
    pub mail: marquee_mail::Outbox,
    /// Registrations on their way to the group commit.
    pub registrations: crate::domains::ticketing::service::Claims,
    /// Orders without a voucher on their way to the group commit.
    pub reservations: crate::domains::orders::service::Reservations,
    /// Webhook delivery: the sender, the secrets' sealer, the schedule.
    pub webhooks: crate::domains::webhooks::Dispatcher,
}
