//! The audit log of every auth action that matters: who, what, when, from
//! where. Secrets never enter it.

pub mod repo;
pub mod routes;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::client::ClientMeta;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor_user_id: Option<Uuid>,
    pub subject_user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: serde_json::Value,
}

impl AuditEntry {
    pub fn new(action: &str, at: DateTime<Utc>, client: &ClientMeta) -> Self {
        Self {
            id: Uuid::now_v7(),
            at,
            action: action.to_owned(),
            actor_user_id: None,
            subject_user_id: None,
            session_id: None,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            detail: serde_json::Value::Object(Default::default()),
        }
    }

    /// The user acted on themselves.
    pub fn by(mut self, user: Uuid) -> Self {
        self.actor_user_id = Some(user);
        self.subject_user_id = self.subject_user_id.or(Some(user));
        self
    }

    pub fn on(mut self, user: Uuid) -> Self {
        self.subject_user_id = Some(user);
        self
    }

    pub fn session(mut self, session: Uuid) -> Self {
        self.session_id = Some(session);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}
