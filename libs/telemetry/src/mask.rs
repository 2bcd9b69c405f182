//! Personal data and secrets never reach the logs: every formatted log line
//! passes through [`mask`] on its way out, whatever field or message carries
//! it. Masked: email addresses, phone numbers, card-like numbers (Luhn-valid
//! 13–19 digits), JWTs, bearer credentials and long random tokens. Ids the
//! logs need (UUIDs, trace ids: lowercase hex) are left alone.

use std::borrow::Cow;
use std::io;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use tracing_subscriber::fmt::MakeWriter;

struct Rule {
    pattern: Regex,
    apply: fn(&Captures<'_>) -> String,
}

fn rule(pattern: &str, apply: fn(&Captures<'_>) -> String) -> Option<Rule> {
    Regex::new(pattern).ok().map(|pattern| Rule { pattern, apply })
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    [
        rule(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+", |_| "[token]".to_owned()),
        rule(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}", |c| format!("{} [token]", &c[1])),
        rule(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", |_| "[email]".to_owned()),
        // A decimal's digits (a duration, an amount) are a number, not a card.
        rule(r"(\d*\.)?\b(?:\d[ -]?){12,18}\d\b(\.\d)?", |c| {
            if c.get(1).is_none() && c.get(2).is_none() && luhn(&c[0]) { "[card]".to_owned() } else { c[0].to_owned() }
        }),
        rule(r"\+\d[\d ().-]{6,18}\d", |_| "[phone]".to_owned()),
        rule(r"\(\d{3}\) ?\d{3}-\d{4}", |_| "[phone]".to_owned()),
        rule(r"[A-Za-z0-9_-]{32,}", |c| if random_looking(&c[0]) { "[token]".to_owned() } else { c[0].to_owned() }),
    ]
    .into_iter()
    .flatten()
    .collect()
});

fn luhn(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { *d })
        .sum();
    sum.is_multiple_of(10)
}

/// Upper and lower case letters and digits together: an encoded secret, not
/// an id (ids are lowercase hex or words).
fn random_looking(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars().any(|c| c.is_ascii_lowercase())
        && s.chars().any(|c| c.is_ascii_digit())
}

/// The line with personal data and secrets replaced by placeholders.
pub fn mask(line: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(line);
    for rule in RULES.iter() {
        if rule.pattern.is_match(&out) {
            out = Cow::Owned(rule.pattern.replace_all(&out, |c: &Captures<'_>| (rule.apply)(c)).into_owned());
        }
    }
    out
}

/// A writer that masks each formatted line before it reaches `W`.
pub struct Masked<M>(pub M);

pub struct MaskedWriter<W>(W);

impl<W: io::Write> io::Write for MaskedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // The fmt layer hands over one whole formatted event per call.
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(mask(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Masked<M> {
    type Writer = MaskedWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedWriter(self.0.make_writer())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn personal_data_in_any_field_or_message_is_masked() {
        let captured = Captured::default();
        let layer = tracing_subscriber::fmt::layer().json().with_writer(Masked(captured.clone()));
        let subscriber = tracing_subscriber::registry().with(layer);
        let jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU";
        let refresh = "q3Zk8VtR2pXw9LmN4bJc7HsD1fGe6YaU0oKiTrWx5Qs";
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(email = "maria.silva@example.com", phone = "+351 912 345 678", "signed up");
            tracing::warn!("card 4111 1111 1111 1111 declined for jo@example.org");
            tracing::info!(authorization = %format!("Bearer {jwt}"), token = refresh, "refreshed");
            tracing::info!(phone = "(555) 123-4567", "called");
        });
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        for secret in [
            "maria.silva@example.com",
            "jo@example.org",
            "+351 912 345 678",
            "4111 1111 1111 1111",
            jwt,
            refresh,
            "123-4567",
        ] {
            assert!(!logs.contains(secret), "{secret} leaked: {logs}");
        }
        for placeholder in ["[email]", "[phone]", "[card]", "[token]"] {
            assert!(logs.contains(placeholder), "{placeholder} missing: {logs}");
        }
        assert_eq!(logs.lines().count(), 4, "one line per event, still JSON: {logs}");
        for line in logs.lines() {
            assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
        }
    }

    #[test]
    fn ids_times_and_numbers_the_logs_need_stay() {
        for kept in [
            "request_id=01a230a4-f1dc-7397-bb48-b1a6b5df2873",
            "trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
            "at 2026-12-01T08:07:25.903760042Z took 1234567 us",
            "route=/v1/events/{id}/registrations status=201",
            "sold 1234567890123 tickets",
            r#"{"elapsed_ms":0.4111111111111111,"status":200}"#,
            "took 10.4111111111111111 ms",
        ] {
            assert_eq!(mask(kept), kept);
        }
    }
}
