//! Time as a parameter: domain code asks a `Clock`, so tests can move time
//! (expiry, grace periods) without sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Default)]
pub enum Clock {
    #[default]
    System,
    /// A clock that moves only when told to (tests).
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self::Manual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Manual(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Moves a manual clock forward; the system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        if let Self::Manual(t) = self {
            let mut now = t.lock().unwrap_or_else(|p| p.into_inner());
            *now += by;
        }
    }
}
