use crate::patch::Patch;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domains::artists::model::{check_email, double_option};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Staff,
    Volunteer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Volunteer => "volunteer",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Staff, Self::Volunteer].into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Certification {
    pub name: String,
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn of(w: Weekday) -> Self {
        match w {
            Weekday::Mon => Self::Mon,
            Weekday::Tue => Self::Tue,
            Weekday::Wed => Self::Wed,
            Weekday::Thu => Self::Thu,
            Weekday::Fri => Self::Fri,
            Weekday::Sat => Self::Sat,
            Weekday::Sun => Self::Sun,
        }
    }
}

/// A weekly window in which someone can work, in UTC: `from` to `to` as
/// `HH:MM` (`to` may be `24:00`). Windows that meet chain, also across midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Window {
    pub day: Day,
    pub from: String,
    pub to: String,
}

/// Minutes after midnight of `HH:MM`, `24:00` included.
pub fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// Whether the windows cover all of `[start, end)`. No windows means no
/// stated constraint: available at any time.
pub fn covers(windows: &[Window], start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    if windows.is_empty() {
        return true;
    }
    let spans: Vec<(Day, u32, u32)> =
        windows.iter().filter_map(|w| Some((w.day, minutes(&w.from)?, minutes(&w.to)?))).collect();
    let mut t = start;
    while t < end {
        let day = Day::of(t.weekday());
        let now = t.hour() * 60 + t.minute();
        let reach = spans.iter().filter(|(d, from, to)| *d == day && *from <= now && now < *to).map(|s| s.2).max();
        let Some(to) = reach else {
            return false;
        };
        let midnight = t.date_naive().and_hms_opt(0, 0, 0).map(|m| m.and_utc()).unwrap_or(t);
        t = midnight + Duration::minutes(i64::from(to));
    }
    true
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrewMember {
    pub id: Uuid,
    /// The member's account, when the person has one.
    pub user_id: Option<Uuid>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub kind: Kind,
    pub skills: Vec<String>,
    pub certifications: Vec<Certification>,
    pub availability: Vec<Window>,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrewIn {
    pub user_id: Option<Uuid>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub kind: Kind,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub certifications: Vec<Certification>,
    #[serde(default)]
    pub availability: Vec<Window>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrewPatch {
    #[serde(default, deserialize_with = "double_option")]
    pub user_id: Option<Option<Uuid>>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
    pub kind: Option<Kind>,
    pub skills: Option<Vec<String>>,
    pub certifications: Option<Vec<Certification>>,
    pub availability: Option<Vec<Window>>,
}

/// Skills compare without case or surrounding space.
pub fn normalise_skills(skills: &[String]) -> Vec<String> {
    let mut out: Vec<String> = skills.iter().map(|s| s.trim().to_lowercase()).collect();
    out.sort();
    out.dedup();
    out
}

pub(crate) fn check_skills(issues: &mut Issues, field: &str, skills: &[String]) {
    issues.check(skills.len() <= 50, field, "at most 50 skills");
    for (i, s) in skills.iter().enumerate() {
        issues.text(&format!("{field}[{i}]"), s, 50);
    }
}

fn check_contact(issues: &mut Issues, email: Option<&str>, phone: Option<&str>) {
    if let Some(e) = email {
        check_email(issues, "email", e);
    }
    if let Some(p) = phone {
        issues.check(
            (4..=32).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)),
            "phone",
            "must be a phone number of 4 to 32 digits and + - ( ) .",
        );
    }
}

fn check_certifications(issues: &mut Issues, certifications: &[Certification]) {
    issues.check(certifications.len() <= 50, "certifications", "at most 50 certifications");
    for (i, c) in certifications.iter().enumerate() {
        issues.text(&format!("certifications[{i}].name"), &c.name, 100);
    }
}

fn check_availability(issues: &mut Issues, windows: &[Window]) {
    issues.check(windows.len() <= 50, "availability", "at most 50 windows");
    for (i, w) in windows.iter().enumerate() {
        match (minutes(&w.from), minutes(&w.to)) {
            (Some(from), Some(to)) => {
                issues.check(from < to, &format!("availability[{i}].to"), "must be after from");
            }
            (from, to) => {
                for (field, ok) in [("from", from.is_some()), ("to", to.is_some())] {
                    issues.check(ok, &format!("availability[{i}].{field}"), "must be a time HH:MM (00:00 to 24:00)");
                }
            }
        }
    }
}

impl Validate for CrewIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        check_contact(&mut issues, self.email.as_deref(), self.phone.as_deref());
        check_skills(&mut issues, "skills", &self.skills);
        check_certifications(&mut issues, &self.certifications);
        check_availability(&mut issues, &self.availability);
        issues.finish()
    }
}

impl Validate for CrewPatch {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(n) = &self.name {
            issues.text("name", n, 200);
        }
        check_contact(
            &mut issues,
            self.email.as_ref().and_then(Option::as_deref),
            self.phone.as_ref().and_then(Option::as_deref),
        );
        if let Some(s) = &self.skills {
            check_skills(&mut issues, "skills", s);
        }
        if let Some(c) = &self.certifications {
            check_certifications(&mut issues, c);
        }
        if let Some(a) = &self.availability {
            check_availability(&mut issues, a);
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrewFilter {
    pub skill: Option<String>,
    pub kind: Option<Kind>,
}

impl Validate for CrewFilter {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(s) = &self.skill {
            issues.text("skill", s, 50);
        }
        issues.finish()
    }
}

/// An optional text as kept: trimmed, and absent when blank.
pub(crate) fn trimmed(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Patch<CrewMember> for CrewPatch {
    fn apply(self, target: &mut CrewMember) {
        if let Some(user) = self.user_id {
            target.user_id = user;
        }
        if let Some(n) = self.name {
            target.name = n.trim().to_owned();
        }
        if let Some(e) = self.email {
            target.email = trimmed(e);
        }
        if let Some(p) = self.phone {
            target.phone = trimmed(p);
        }
        if let Some(k) = self.kind {
            target.kind = k;
        }
        if let Some(s) = self.skills {
            target.skills = normalise_skills(&s);
        }
        if let Some(c) = self.certifications {
            target.certifications = c;
        }
        if let Some(a) = self.availability {
            target.availability = a;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    fn window(day: Day, from: &str, to: &str) -> Window {
        Window { day, from: from.to_owned(), to: to.to_owned() }
    }

    #[test]
    fn times_parse_with_midnight_at_both_ends() {
        assert_eq!(minutes("00:00"), Some(0));
        assert_eq!(minutes("24:00"), Some(1440));
        for bad in ["24:01", "9:00", "12:60", "ab:cd", "1200"] {
            assert_eq!(minutes(bad), None, "{bad}");
        }
    }

    #[test]
    fn windows_cover_a_shift_only_if_they_cover_all_of_it() {
        // 2030-05-03 is a Friday.
        let friday = [window(Day::Fri, "09:00", "17:00")];
        assert!(covers(&friday, at("2030-05-03T10:00:00Z"), at("2030-05-03T17:00:00Z")));
        assert!(!covers(&friday, at("2030-05-03T16:00:00Z"), at("2030-05-03T18:00:00Z")));
        assert!(!covers(&friday, at("2030-05-04T10:00:00Z"), at("2030-05-04T11:00:00Z")), "a Saturday");
        let overnight = [window(Day::Fri, "18:00", "24:00"), window(Day::Sat, "00:00", "04:00")];
        assert!(covers(&overnight, at("2030-05-03T20:00:00Z"), at("2030-05-04T03:00:00Z")));
        assert!(!covers(&overnight, at("2030-05-03T20:00:00Z"), at("2030-05-04T05:00:00Z")));
        assert!(covers(&[], at("2030-05-03T20:00:00Z"), at("2030-05-04T05:00:00Z")), "nothing stated");
    }
}
