//! Each service's OpenAPI document is committed under `openapi/`, so web and
//! mobile teams generate clients from the repository; the served documents and
//! the committed ones never differ. `UPDATE_OPENAPI=1` rewrites the files.

use std::path::Path;

use serde_json::Value;

use crate::harness::{Fleet, Service};

#[tokio::test]
async fn served_openapi_documents_match_the_committed_ones() {
    let f = Fleet::start().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi");
    let update = std::env::var_os("UPDATE_OPENAPI").is_some();
    let mut stale = Vec::new();
    for service in Service::ALL {
        let client = f.client(service);
        let served: Value = client.http.get(client.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert_eq!(served["openapi"], "3.1.0", "{}", service.name());
        assert!(served["paths"].as_object().is_some_and(|p| !p.is_empty()), "{} documents no path", service.name());
        let file = dir.join(format!("{}.json", service.name()));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, serde_json::to_string_pretty(&served).unwrap() + "\n").unwrap();
            continue;
        }
        let committed: Value = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        if committed != served {
            stale.push(file.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "served OpenAPI documents differ from {stale:?}: run UPDATE_OPENAPI=1 cargo nextest run -p marquee-fleet-tests openapi"
    );
}
