//! Opening a Redis client from a `redis://` or `rediss://` URL, the one way
//! every service does it.
//!
//! `rediss://` is TLS, verified against the system's trust store, or against
//! the PEM certificates in the file named by `REDIS_CA_CERT_FILE` when a
//! private authority signed the server's certificate (a managed Redis inside
//! the cluster, usually).

/// The variable naming a PEM file of trusted authorities for `rediss://`.
pub const CA_CERT_FILE_VAR: &str = "REDIS_CA_CERT_FILE";

/// A client for `url`; connections are made on first use.
pub fn open_client(url: &str) -> Result<redis::Client, String> {
    let ca_file = std::env::var(CA_CERT_FILE_VAR).ok().filter(|f| !f.trim().is_empty());
    open_client_with_ca(url, ca_file.as_deref())
}

/// As [`open_client`], with the trusted authorities' file given.
pub fn open_client_with_ca(url: &str, ca_file: Option<&str>) -> Result<redis::Client, String> {
    if !url.starts_with("rediss://") {
        return redis::Client::open(url).map_err(|e| e.to_string());
    }
    // Two TLS crypto providers are linked into the services, so rustls
    // cannot pick one by itself; an earlier install (by anyone) stands.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(ca_file) = ca_file else {
        return redis::Client::open(url).map_err(|e| e.to_string());
    };
    let root_cert =
        std::fs::read(ca_file).map_err(|e| format!("{CA_CERT_FILE_VAR} {ca_file:?} cannot be read: {e}"))?;
    redis::Client::build_with_tls(url, redis::TlsCertificates { client_tls: None, root_cert: Some(root_cert) })
        .map_err(|e| e.to_string())
}
