use chrono::{DateTime, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Bytes, so a long multi-byte password cannot make hashing expensive.
pub const MAX_PASSWORD_BYTES: usize = 512;

pub const ROLE_USER: &str = "user";
pub const ROLE_PLATFORM_ADMIN: &str = marquee_guard::PLATFORM_ADMIN_ROLE;

/// A normalised email address: trimmed, lowercase, plausibly deliverable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid { Ok(Self(email)) } else { Err("must be a valid email address".to_owned()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn check_password(issues: &mut Issues, field: &str, password: &str) {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        issues.add(field, format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    } else if chars > MAX_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        issues.add(field, format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    /// The status a stored value means: only "disabled" disables.
    pub fn stored(raw: &str) -> Self {
        if raw == Self::Disabled.as_str() { Self::Disabled } else { Self::Active }
    }
}

/// The identity core.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub base_role: String,
    pub status: Status,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub name: String,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub avatar_ref: Option<String>,
}

/// What a user sees of themselves.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub base_role: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub profile: Profile,
}

impl Me {
    pub fn of(user: &User, profile: Profile) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            base_role: user.base_role.clone(),
            email_verified: user.email_verified_at.is_some(),
            created_at: user.created_at,
            profile,
        }
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupIn {
    pub email: String,
    pub password: String,
    pub name: String,
}

impl Validate for SignupIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Err(e) = Email::parse(&self.email) {
            issues.add("email", e);
        }
        check_password(&mut issues, "password", &self.password);
        issues.text("name", &self.name, 200);
        issues.finish()
    }
}

/// A profile edit; absent fields stay as they are, `null` clears optional ones.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub locale: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub avatar_ref: Option<Option<String>>,
}

fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

impl Validate for ProfileIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(name) = &self.name {
            issues.text("name", name, 200);
        }
        if let Some(Some(phone)) = &self.phone {
            let ok =
                (3..=40).contains(&phone.len()) && phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
            issues.check(ok, "phone", "must be a phone number of digits, spaces and + - ( ) .");
        }
        if let Some(Some(locale)) = &self.locale {
            let ok = (2..=35).contains(&locale.len())
                && locale.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            issues.check(ok, "locale", "must be a language tag such as en-GB");
        }
        if let Some(Some(avatar)) = &self.avatar_ref {
            issues.check(!avatar.trim().is_empty() && avatar.len() <= 500, "avatarRef", "must be 1 to 500 characters");
        }
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChangeIn {
    pub current_password: String,
    pub new_password: String,
}

impl Validate for PasswordChangeIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(
            !self.current_password.is_empty() && self.current_password.len() <= MAX_PASSWORD_BYTES,
            "currentPassword",
            "is required",
        );
        check_password(&mut issues, "newPassword", &self.new_password);
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetRequestIn {
    pub email: String,
}

impl Validate for ResetRequestIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Err(e) = Email::parse(&self.email) {
            issues.add("email", e);
        }
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetConfirmIn {
    pub token: String,
    pub password: String,
}

impl Validate for ResetConfirmIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(!self.token.is_empty() && self.token.len() <= 200, "token", "is required");
        check_password(&mut issues, "password", &self.password);
        issues.finish()
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenIn {
    pub token: String,
}

impl Validate for TokenIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.check(!self.token.is_empty() && self.token.len() <= 200, "token", "is required");
        issues.finish()
    }
}

/// Purposes of one-time tokens sent by mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}
