//! Mail as the development transport writes it: one `.eml` file a message.

/// Every message in `dir`, oldest first, bodies decoded.
pub fn mails(dir: &std::path::Path) -> Vec<String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir).map(|d| d.filter_map(Result::ok).collect()).unwrap_or_default();
    entries.sort_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
    entries
        .into_iter()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|m| decode_quoted_printable(&m))
        .collect()
}

/// Mail bodies travel quoted-printable: soft line breaks and `=XX` escapes.
fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The token in the newest mail to `to` whose link goes to `/{path}?token=`.
pub fn find_token(dir: &std::path::Path, to: &str, path: &str) -> Option<String> {
    mails(dir).into_iter().rev().filter(|m| m.contains(&format!("To: {to}"))).find_map(|m| {
        let marker = format!("/{path}?token=");
        let start = m.find(&marker)? + marker.len();
        Some(m[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
    })
}
