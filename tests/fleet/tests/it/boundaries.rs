//! The ownership split of DESIGN §1–§2, enforced from `cargo metadata`:
//! no service depends on another service, no lib on any service, and each
//! migration crate belongs to its own service only.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// Every workspace package and the workspace packages it depends on.
fn workspace_graph() -> BTreeMap<String, (String, Vec<String>)> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let names: Vec<String> = packages.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null() || d["kind"] == "build")
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|d| names.contains(d))
                .collect();
            let path = p["manifest_path"].as_str().unwrap().to_owned();
            (p["name"].as_str().unwrap().to_owned(), (path, deps))
        })
        .collect()
}

fn kind_of(manifest_path: &str) -> &'static str {
    if manifest_path.contains("/services/") {
        "service"
    } else if manifest_path.contains("/libs/") {
        "lib"
    } else if manifest_path.contains("/migrations/") {
        "migration"
    } else {
        "other"
    }
}

#[test]
fn services_and_libs_keep_to_their_side_of_the_split() {
    let graph = workspace_graph();
    let kind = |name: &str| graph.get(name).map_or("external", |(path, _)| kind_of(path));
    let mut violations = Vec::new();
    for (name, (path, deps)) in &graph {
        for dep in deps {
            match (kind_of(path), kind(dep)) {
                ("service", "service") => violations.push(format!("service {name} depends on service {dep}")),
                ("lib", "service") => violations.push(format!("lib {name} depends on service {dep}")),
                ("lib", "migration") => violations.push(format!("lib {name} depends on migration {dep}")),
                ("service", "migration") => {
                    // marquee-<svc> may use migration-<svc> only.
                    let own = name.trim_start_matches("marquee-");
                    if dep.trim_start_matches("migration-") != own {
                        violations.push(format!("service {name} runs another service's migrations ({dep})"));
                    }
                }
                _ => {}
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
    assert!(graph.contains_key("marquee-platform-core"), "the graph was read");
}
