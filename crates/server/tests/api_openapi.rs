//! The OpenAPI document at `/v1/openapi.json` names every endpoint, and a client driven by
//! it (random bodies built from each schema's field names) never gets a 500 or a non-problem.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Device};
use serde_json::{Map, Value, json};

const ENDPOINTS: [(&str, &str); 43] = [
    ("get", "/v1/health"),
    ("get", "/v1/openapi.json"),
    ("get", "/v1/updates/{target}/{arch}/{current_version}"),
    ("get", "/v1/releases/{file}"),
    ("post", "/v1/auth/sign-in"),
    ("post", "/v1/auth/mfa"),
    ("post", "/v1/auth/mfa/enroll"),
    ("post", "/v1/auth/mfa/confirm"),
    ("post", "/v1/auth/recovery-codes"),
    ("post", "/v1/auth/refresh"),
    ("post", "/v1/auth/sign-out"),
    ("post", "/v1/auth/password"),
    ("post", "/v1/auth/step-up"),
    ("get", "/v1/me/devices"),
    ("delete", "/v1/me/devices/{id}"),
    ("get", "/v1/me/sign-ins"),
    ("get", "/v1/me/export"),
    ("post", "/v1/me/erasure-request"),
    ("post", "/v1/admin/members/{id}/erase"),
    ("get", "/v1/members/{id}"),
    ("get", "/v1/members/{id}/enrollees"),
    ("post", "/v1/sync/bootstrap"),
    ("post", "/v1/sync/changes"),
    ("post", "/v1/sync/push"),
    ("post", "/v1/admin/members/{id}/move"),
    ("get", "/v1/admin/accounts"),
    ("get", "/v1/admin/accounts/{id}/devices"),
    ("post", "/v1/admin/accounts/{id}/disable"),
    ("post", "/v1/admin/accounts/{id}/enable"),
    ("post", "/v1/admin/accounts/{id}/role"),
    ("post", "/v1/admin/accounts/{id}/sign-out"),
    ("delete", "/v1/admin/devices/{id}"),
    ("get", "/v1/me/alerts"),
    ("get", "/v1/admin/alerts"),
    ("post", "/v1/admin/alerts/{id}/acknowledge"),
    ("post", "/v1/admin/alerts/{id}/resolve"),
    ("post", "/v1/admin/commissions/{period}/run"),
    ("post", "/v1/admin/commissions/{period}/close"),
    ("get", "/v1/admin/commissions/{period}"),
    ("get", "/v1/me/earnings/{period}"),
    ("get", "/v1/admin/commissions/{period}/members/{id}"),
    ("post", "/v1/sync/statements"),
    ("get", "/v1/sync/statements/{period}/lines"),
];

async fn document(api: &Api) -> Value {
    let response = api
        .http
        .get(api.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_document_lists_every_endpoint_with_problem_errors() {
    let api = Api::start().await;
    let doc = document(&api).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut listed = Vec::new();
    let mut problems = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            listed.push((method.clone(), path.clone()));
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') {
                    let schema = &response["content"]["application/problem+json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                    problems += 1;
                }
            }
        }
    }
    assert!(problems >= 20, "only {problems} error responses documented");
    listed.sort();
    let mut expected: Vec<_> = ENDPOINTS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every documented endpoint is routed.
    for (method, path) in &listed {
        let url = api.url(&path.replace("{id}", "1").replace("{period}", "2026-10"));
        let request = match method.as_str() {
            "get" => api.http.get(&url),
            "delete" => api.http.delete(&url),
            _ => api.http.post(&url).json(&json!({})),
        };
        let body = request.send().await.unwrap().text().await.unwrap();
        assert!(
            !body.contains("There is no such endpoint"),
            "{method} {path} is not routed"
        );
    }
    api.running.shutdown().await.unwrap();
}

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn value(&mut self, depth: u32) -> Value {
        match self.next() % if depth > 2 { 6 } else { 8 } {
            0 => Value::Null,
            1 => json!(self.next().is_multiple_of(2)),
            2 => json!(self.next() as i64),
            3 => json!(-1.5e300),
            4 => json!(self.pick(&[
                "", "123456", "cat_x", "crt_", "cmt_AAAA", "a@b.cd", "\u{0}", "💥"
            ])),
            5 => json!("x".repeat((self.next() % 3000) as usize)),
            6 => Value::Array(
                (0..self.next() % 4)
                    .map(|_| self.value(depth + 1))
                    .collect(),
            ),
            _ => {
                let mut map = Map::new();
                for _ in 0..self.next() % 4 {
                    map.insert(
                        self.pick(&["id", "name", "x"]).to_owned(),
                        self.value(depth + 1),
                    );
                }
                Value::Object(map)
            }
        }
    }
}

/// The field names of a request body's schema, read from the document.
fn fields(doc: &Value, operation: &Value) -> Vec<String> {
    let reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or("");
    let name = reference.rsplit('/').next().unwrap_or("");
    doc["components"]["schemas"][name]["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_client_driven_by_the_document_never_breaks_a_handler() {
    let api = Api::start().await;
    let user = api.user("ola@example.com").await;
    let mut laptop = Device::new();
    let session = api.sign_in(&user, &mut laptop).await;
    let doc = document(&api).await;
    let mut rng = Gen(0x9e37_79b9_7f4a_7c15);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let names = fields(&doc, operation);
            if operation.get("requestBody").is_some() {
                assert!(
                    !names.is_empty(),
                    "{method} {path}: no request fields in the document"
                );
            }
            for round in 0..25 {
                let mut body = Map::new();
                for name in &names {
                    if !rng.next().is_multiple_of(4) {
                        body.insert(name.clone(), rng.value(0));
                    }
                }
                if round % 5 == 0 {
                    body.insert("unexpected".into(), json!(1));
                }
                let id = rng.pick(&["1", "-1", "abc", "99999999999999999999", "%00", "1.5"]);
                let url = api.url(&path.replace("{id}", id));
                let request = match method.as_str() {
                    "get" => api.http.get(&url),
                    "delete" => api.http.delete(&url),
                    _ => api.http.post(&url).json(&body),
                };
                let request = if round % 2 == 0 {
                    request.bearer_auth(&session.access)
                } else {
                    request
                };
                let response = request.send().await.unwrap();
                let status = response.status();
                assert!(
                    !status.is_server_error(),
                    "{method} {path}: {status} for {body:?}"
                );
                if status.is_client_error() {
                    assert_eq!(
                        response.headers()["content-type"],
                        "application/problem+json",
                        "{method} {path}"
                    );
                }
            }
        }
    }
    api.running.shutdown().await.unwrap();
}
