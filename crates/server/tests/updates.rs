//! The update routes over real TLS, without signing in: 204 while nothing newer is
//! published (or its signature is missing), the Tauri updater's manifest for a newer
//! release, the artifact byte for byte, and nothing else from the folder: no traversal,
//! no file the manifest does not name, no symlink, no oversized manifest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::Api;
use data_encoding::BASE64;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FILE: &str = "canopy-app_0.2.0_linux-x86_64";
const SIG: &str = "untrusted comment: signature from canopy release key\nRUQ...\n";

fn releases(api: &Api) -> PathBuf {
    let dir = api.state.updates.as_ref().unwrap().dir.clone();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn manifest(dir: &Path, version: &str, file: &str) {
    let manifest = json!({
        "version": version,
        "notes": "Faster sync",
        "pub_date": "2027-01-15T08:00:00Z",
        "platforms": {"linux-x86_64": {"file": file}},
    });
    std::fs::write(dir.join("latest.json"), manifest.to_string()).unwrap();
}

async fn get(api: &Api, path: &str) -> reqwest::Response {
    api.http.get(api.url(path)).send().await.unwrap()
}

async fn status(api: &Api, path: &str) -> StatusCode {
    get(api, path).await.status()
}

#[tokio::test]
async fn a_newer_signed_release_is_offered_and_served() {
    let api = Api::start().await;
    let dir = releases(&api);
    let check = "/v1/updates/linux/x86_64/0.1.0";
    assert_eq!(status(&api, check).await, StatusCode::NO_CONTENT);

    let artifact: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.join(FILE), &artifact).unwrap();
    std::fs::write(dir.join(format!("{FILE}.sig")), SIG).unwrap();
    manifest(&dir, "0.2.0", FILE);

    let response = get(&api, check).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "version": "0.2.0",
            "notes": "Faster sync",
            "pub_date": "2027-01-15T08:00:00Z",
            "url": api.url(&format!("/v1/releases/{FILE}")),
            "signature": BASE64.encode(SIG.as_bytes()),
        })
    );

    let download = get(&api, &format!("/v1/releases/{FILE}")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(
        download.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), artifact);

    // Not newer, another platform, a pre-release of the same version is older.
    let cases = [
        ("/v1/updates/linux/x86_64/0.2.0", StatusCode::NO_CONTENT),
        ("/v1/updates/linux/x86_64/0.3.0", StatusCode::NO_CONTENT),
        ("/v1/updates/linux/x86_64/v0.1.9", StatusCode::OK),
        ("/v1/updates/linux/x86_64/0.2.0-rc.1", StatusCode::OK),
        ("/v1/updates/windows/x86_64/0.1.0", StatusCode::NO_CONTENT),
        ("/v1/updates/linux/aarch64/0.1.0", StatusCode::NO_CONTENT),
        ("/v1/updates/linux/x86_64/latest", StatusCode::BAD_REQUEST),
        ("/v1/updates/linux/x86_64/1.2", StatusCode::BAD_REQUEST),
        ("/v1/updates/Linux/x86_64/0.1.0", StatusCode::BAD_REQUEST),
        (
            "/v1/updates/..%2F..%2Fetc/x86_64/0.1.0",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, expected) in cases {
        assert_eq!(status(&api, path).await, expected, "{path}");
    }

    // Without its signature the release is not offered at all.
    std::fs::remove_file(dir.join(format!("{FILE}.sig"))).unwrap();
    assert_eq!(status(&api, check).await, StatusCode::NO_CONTENT);
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn only_the_files_the_manifest_names_are_served() {
    let api = Api::start().await;
    let dir = releases(&api);
    std::fs::write(dir.join(FILE), b"artifact").unwrap();
    std::fs::write(dir.join(format!("{FILE}.sig")), SIG).unwrap();
    std::fs::write(dir.join("notes-draft.txt"), b"not published").unwrap();
    std::fs::write(dir.parent().unwrap().join("outside.txt"), b"secret").unwrap();
    manifest(&dir, "0.2.0", FILE);

    assert_eq!(
        status(&api, &format!("/v1/releases/{FILE}")).await,
        StatusCode::OK
    );
    let refused = [
        "/v1/releases/latest.json",
        "/v1/releases/notes-draft.txt",
        "/v1/releases/..%2Foutside.txt",
        "/v1/releases/..%2F..%2Fetc%2Fpasswd",
        "/v1/releases/.hidden",
        "/v1/releases/canopy-app_0.2.0_linux-x86_64%00",
    ];
    for path in refused {
        let response = get(&api, path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(
            problem["detail"], "There is no such release file.",
            "{path}"
        );
    }
    // Dot segments never reach the handler: the client resolves them, the router knows
    // no such path.
    for path in ["/v1/releases/../outside.txt", "/v1/releases/%2E%2E"] {
        assert_eq!(status(&api, path).await, StatusCode::NOT_FOUND, "{path}");
    }
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_broken_folder_makes_updates_unavailable_not_unsafe() {
    let api = Api::start().await;
    let dir = releases(&api);
    let check = "/v1/updates/linux/x86_64/0.1.0";

    // A manifest naming a symlink to a file outside the folder.
    let outside = dir.parent().unwrap().join("outside.bin");
    std::fs::write(&outside, b"not a release").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join(FILE)).unwrap();
    std::fs::write(dir.join(format!("{FILE}.sig")), SIG).unwrap();
    manifest(&dir, "0.2.0", FILE);
    for path in [check.to_owned(), format!("/v1/releases/{FILE}")] {
        let response = get(&api, &path).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["detail"], "Updates are unavailable at the moment.");
    }

    // A manifest that is not valid, one naming a path, and an oversized one.
    let broken = [
        "{\"version\": \"0.2.0\"".to_owned(),
        json!({"version": "0.2.0", "pub_date": "2027-01-15T08:00:00Z",
               "platforms": {"linux-x86_64": {"file": "../outside.bin"}}})
        .to_string(),
        json!({"version": "0.2.0", "pub_date": "2027-01-15T08:00:00Z", "notes": "x".repeat(70_000),
               "platforms": {}})
        .to_string(),
        json!({"version": "0.2.0", "pub_date": "2027-01-15T08:00:00Z", "platforms": {},
               "url": "https://elsewhere.example/"})
        .to_string(),
    ];
    for text in broken {
        std::fs::write(dir.join("latest.json"), &text).unwrap();
        assert_eq!(
            status(&api, check).await,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            &text[..text.len().min(80)]
        );
    }
    api.running.shutdown().await.unwrap();
}
