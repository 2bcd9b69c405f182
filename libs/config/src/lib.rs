//! Configuration from the environment. A loader reads every variable it needs,
//! collects every problem, and fails once naming all of them, so an operator
//! fixes a bad deployment in one round instead of one variable at a time.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// One bad or missing variable, with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub variable: String,
    pub problem: String,
}

/// Every problem found while loading, reported together.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {}", render(.issues))]
pub struct ConfigError {
    pub issues: Vec<ConfigIssue>,
}

fn render(issues: &[ConfigIssue]) -> String {
    issues.iter().map(|i| format!("{} ({})", i.variable, i.problem)).collect::<Vec<_>>().join("; ")
}

/// A value that must never be printed: its `Debug` and `Display` are masked.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Reads variables from a source (the process environment, or a map in tests)
/// and remembers every problem until [`Env::finish`].
pub struct Env {
    vars: HashMap<String, String>,
    issues: Vec<ConfigIssue>,
}

impl Env {
    pub fn from_process() -> Self {
        Self::from_map(std::env::vars().collect())
    }

    pub fn from_map(vars: HashMap<String, String>) -> Self {
        Self { vars, issues: Vec::new() }
    }

    fn raw(&self, name: &str) -> Option<String> {
        self.vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    pub fn problem(&mut self, name: &str, problem: impl Into<String>) {
        self.issues.push(ConfigIssue { variable: name.to_owned(), problem: problem.into() });
    }

    /// A string with a default.
    pub fn string(&mut self, name: &str, default: &str) -> String {
        self.raw(name).unwrap_or_else(|| default.to_owned())
    }

    /// An optional string.
    pub fn optional(&mut self, name: &str) -> Option<String> {
        self.raw(name)
    }

    /// A secret that must be set.
    pub fn required_secret(&mut self, name: &str) -> Secret {
        match self.raw(name) {
            Some(v) => Secret(v),
            None => {
                self.problem(name, "is required");
                Secret(String::new())
            }
        }
    }

    /// An optional URL that must start with one of `schemes`.
    pub fn optional_url(&mut self, name: &str, schemes: &[&str]) -> Option<String> {
        let url = self.raw(name)?;
        if !schemes.iter().any(|s| url.starts_with(s)) {
            self.problem(name, format!("must start with {}", schemes.join(" or ")));
        }
        Some(url)
    }

    /// An optional secret.
    pub fn optional_secret(&mut self, name: &str) -> Option<Secret> {
        self.raw(name).map(Secret)
    }

    /// A parsed value with a default; a value that does not parse is a problem.
    pub fn parse<T>(&mut self, name: &str, default: T) -> T
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.raw(name) {
            None => default,
            Some(v) => match v.parse() {
                Ok(parsed) => parsed,
                Err(e) => {
                    self.problem(name, format!("cannot parse {v:?}: {e}"));
                    default
                }
            },
        }
    }

    /// A boolean flag: `true/false/1/0/yes/no`.
    pub fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.raw(name).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => true,
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => false,
            Some(v) => {
                self.problem(name, format!("{v:?} is not a boolean"));
                default
            }
        }
    }

    /// A comma-separated list.
    pub fn list(&mut self, name: &str) -> Vec<String> {
        self.raw(name)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }

    /// Ends loading: every problem seen so far, or nothing.
    pub fn finish(&mut self) -> Result<(), ConfigError> {
        if self.issues.is_empty() { Ok(()) } else { Err(ConfigError { issues: std::mem::take(&mut self.issues) }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn names_every_bad_variable_at_once() {
        let mut e = env(&[("PORT", "eighty"), ("DEBUG", "maybe")]);
        let _: u16 = e.parse("PORT", 80);
        let _ = e.flag("DEBUG", false);
        let _ = e.required_secret("TOKEN");
        let err = e.finish().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("PORT"), "{err}");
        assert!(err.contains("DEBUG"), "{err}");
        assert!(err.contains("TOKEN (is required)"), "{err}");
    }

    #[test]
    fn defaults_apply_and_secrets_never_print() {
        let mut e = env(&[("TOKEN", "hunter2")]);
        assert_eq!(e.parse("PORT", 8081u16), 8081);
        let s = e.required_secret("TOKEN");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        assert_eq!(s.expose(), "hunter2");
        assert!(e.finish().is_ok());
    }
}
