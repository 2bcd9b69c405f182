//! Media: files that belong to an artist, an event or a venue. The bytes are
//! streamed to object storage (a folder by default, S3-compatible when
//! configured) and never held whole in memory; the database keeps the
//! object's key and metadata. A file's type is what its first bytes say, not
//! its name, and each company's stored total stays within its `storageBytes`.

pub mod repo;
pub mod routes;
pub mod service;
pub mod store;

use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a file may be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerType {
    Artist,
    Event,
    Venue,
}

impl OwnerType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Artist => "artist",
            Self::Event => "event",
            Self::Venue => "venue",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Artist, Self::Event, Self::Venue].into_iter().find(|x| x.as_str() == s)
    }
}

/// The types accepted, as their magic numbers identify them.
pub const ALLOWED_TYPES: &[&str] =
    &["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "audio/mpeg", "video/mp4"];

/// The declared type in its canonical spelling (`image/jpg` is `image/jpeg`),
/// parameters dropped.
pub fn canonical_type(declared: &str) -> String {
    let essence = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "image/jpg" | "image/pjpeg" => "image/jpeg".to_owned(),
        "audio/mp3" => "audio/mpeg".to_owned(),
        _ => essence,
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    pub id: Uuid,
    pub owner_type: OwnerType,
    pub owner_id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub checksum_sha256: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// The query of an upload: the file's owner and its name.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadIn {
    pub owner_type: OwnerType,
    pub owner_id: Uuid,
    pub filename: String,
}

/// A file name as people see it: no folders, no control characters, nothing
/// hidden. It is never part of where the object is stored.
pub fn filename_issue(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("must not be empty")
    } else if name.chars().count() > 200 {
        Some("at most 200 characters")
    } else if name.contains(['/', '\\']) || name.contains("..") {
        Some("must be a plain file name, without folders or '..'")
    } else if name.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else if name.starts_with('.') || name.starts_with(' ') || name.ends_with(' ') {
        Some("must not start with a dot or start or end with a space")
    } else {
        None
    }
}

impl Validate for UploadIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(issue) = filename_issue(&self.filename) {
            issues.add("filename", issue);
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaFilter {
    pub owner_type: Option<OwnerType>,
    pub owner_id: Option<Uuid>,
}

impl Validate for MediaFilter {}

/// How much a company stores, against its plan.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub used_bytes: u64,
    pub limit_bytes: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_paths_or_tricks_are_refused() {
        for bad in ["../x.png", "a/b.png", "a\\b.png", "..", ".htaccess", "x\u{0}.png", "x\n.png", " ", ""] {
            assert!(filename_issue(bad).is_some(), "{bad:?}");
        }
        for good in ["poster.png", "Tour 2027 – rider.pdf", "a.b.c.jpg"] {
            assert_eq!(filename_issue(good), None, "{good:?}");
        }
    }

    #[test]
    fn declared_types_are_compared_in_canonical_form() {
        assert_eq!(canonical_type("image/JPG"), "image/jpeg");
        assert_eq!(canonical_type("image/png; charset=binary"), "image/png");
    }
}
