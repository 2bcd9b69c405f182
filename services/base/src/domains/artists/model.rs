use crate::patch::Patch;
use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A fee range in integer minor units of one ISO-4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeeRange {
    pub min: i64,
    pub max: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artist {
    pub id: Uuid,
    pub name: String,
    pub genres: Vec<String>,
    pub contacts: Vec<Contact>,
    pub representation: Option<String>,
    pub fee: Option<FeeRange>,
    pub notes: String,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArtistIn {
    pub name: String,
    #[serde(default)]
    pub genres: Vec<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    pub representation: Option<String>,
    pub fee: Option<FeeRange>,
    #[serde(default)]
    pub notes: String,
}

/// An edit: absent fields stay; `null` clears the optional ones.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArtistPatch {
    pub name: Option<String>,
    pub genres: Option<Vec<String>>,
    pub contacts: Option<Vec<Contact>>,
    #[serde(default, deserialize_with = "double_option")]
    pub representation: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub fee: Option<Option<FeeRange>>,
    pub notes: Option<String>,
}

pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// An address that can receive mail: something `@` something, no spaces.
pub fn check_email(issues: &mut Issues, field: &str, email: &str) {
    issues.check(
        email.contains('@') && email.len() <= 254 && !email.contains(char::is_whitespace),
        field,
        "must be an email address",
    );
}

pub fn check_currency(issues: &mut Issues, field: &str, currency: &str) {
    issues.check(
        currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()),
        field,
        "must be an ISO-4217 code such as EUR",
    );
}

fn check_genres(issues: &mut Issues, genres: &[String]) {
    issues.check(genres.len() <= 20, "genres", "at most 20 genres");
    for (i, g) in genres.iter().enumerate() {
        issues.text(&format!("genres[{i}]"), g, 50);
    }
}

pub fn check_contacts(issues: &mut Issues, contacts: &[Contact]) {
    issues.check(contacts.len() <= 20, "contacts", "at most 20 contacts");
    for (i, c) in contacts.iter().enumerate() {
        issues.text(&format!("contacts[{i}].name"), &c.name, 200);
        if let Some(email) = &c.email {
            check_email(issues, &format!("contacts[{i}].email"), email);
        }
        if let Some(phone) = &c.phone {
            issues.check(
                (3..=40).contains(&phone.len()) && phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)),
                &format!("contacts[{i}].phone"),
                "must be a phone number",
            );
        }
        if let Some(role) = &c.role {
            issues.text(&format!("contacts[{i}].role"), role, 100);
        }
    }
}

fn check_fee(issues: &mut Issues, fee: &FeeRange) {
    issues.check(fee.min >= 0, "fee.min", "must not be negative");
    issues.check(fee.max >= fee.min, "fee.max", "must be at least fee.min");
    issues.check(fee.max <= 1_000_000_000_000, "fee.max", "is out of range");
    check_currency(issues, "fee.currency", &fee.currency);
}

impl Validate for ArtistIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        check_genres(&mut issues, &self.genres);
        check_contacts(&mut issues, &self.contacts);
        if let Some(r) = &self.representation {
            issues.text("representation", r, 300);
        }
        if let Some(fee) = &self.fee {
            check_fee(&mut issues, fee);
        }
        issues.check(self.notes.chars().count() <= 5000, "notes", "at most 5000 characters");
        issues.finish()
    }
}

impl Validate for ArtistPatch {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(name) = &self.name {
            issues.text("name", name, 200);
        }
        if let Some(genres) = &self.genres {
            check_genres(&mut issues, genres);
        }
        if let Some(contacts) = &self.contacts {
            check_contacts(&mut issues, contacts);
        }
        if let Some(Some(r)) = &self.representation {
            issues.text("representation", r, 300);
        }
        if let Some(Some(fee)) = &self.fee {
            check_fee(&mut issues, fee);
        }
        if let Some(notes) = &self.notes {
            issues.check(notes.chars().count() <= 5000, "notes", "at most 5000 characters");
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct ArtistFilter {
    /// Part of the name, any case.
    pub q: Option<String>,
    pub genre: Option<String>,
    #[serde(default)]
    pub sort: crate::listing::Sort,
}

impl Validate for ArtistFilter {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(q) = &self.q {
            issues.check(q.chars().count() <= 100, "q", "at most 100 characters");
        }
        if let Some(g) = &self.genre {
            issues.check(g.chars().count() <= 50, "genre", "at most 50 characters");
        }
        issues.finish()
    }
}

impl Patch<Artist> for ArtistPatch {
    fn apply(self, target: &mut Artist) {
        if let Some(name) = self.name {
            target.name = name.trim().to_owned();
        }
        if let Some(genres) = self.genres {
            target.genres = genres.into_iter().map(|g| g.trim().to_owned()).collect();
        }
        if let Some(contacts) = self.contacts {
            target.contacts = contacts;
        }
        if let Some(representation) = self.representation {
            target.representation = representation;
        }
        if let Some(fee) = self.fee {
            target.fee = fee;
        }
        if let Some(notes) = self.notes {
            target.notes = notes;
        }
    }
}
