//! The OpenAPI 3 document at `/v1/openapi.json`, generated from the handlers' annotations
//! and the protocol types in quire-core, so it cannot drift from what the server does.
//!
//! Each handler lists the answers that are its own; [`TransportAnswers`] adds those any
//! request can get from the layers around every route (a timeout, a body over the limit, an
//! unknown `Content-Encoding`) and the headers that go with some statuses. `make test` runs
//! schemathesis against a real server with this document (scripts/schemathesis.sh).

use axum::Json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::{account_keys, accounts, changes_count, digest, health, history, sync, unsealed};

#[derive(OpenApi)]
#[openapi(
    info(title = "Quire sync API", description = "Accounts, push and pull for Quire devices."),
    paths(
        health::health,
        accounts::register,
        accounts::login,
        accounts::logout,
        account_keys::kdf,
        account_keys::change_password,
        account_keys::current,
        account_keys::upgrade,
        account_keys::recovery_key,
        account_keys::recovery_password,
        sync::push,
        sync::pull,
        sync::note,
        changes_count::count,
        digest::account_digest,
        digest::ranges,
        digest::bucket_notes,
        unsealed::unsealed,
        unsealed::upgrade_manifest,
        history::versions,
        history::version,
        history::purge,
    ),
    modifiers(&BearerAuth, &TransportAnswers)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Answers that come from the layers in `routes::router` and the connection handling in
/// `connections`, not from a handler, so every operation can get them; a handler's own
/// description of one of these statuses wins.
const TRANSPORT_ANSWERS: [(&str, &str); 4] = [
    (
        "408",
        "The request took longer than the server allows (`--request-timeout-secs`) and was stopped",
    ),
    (
        "413",
        "The request body (after decompression) or its declared Content-Length is over the server's limit",
    ),
    (
        "415",
        "A Content-Encoding other than gzip or zstd; the answer's Accept-Encoding names those",
    ),
    (
        "503",
        "The server holds as many connections as it takes (`--max-connections`); try again after Retry-After",
    ),
];

struct TransportAnswers;

impl Modify for TransportAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_transport_answers(operation);
            }
        }
    }
}

fn add_transport_answers(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    for (status, description) in TRANSPORT_ANSWERS {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem_response(description).build()));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let header = match status.as_str() {
            "429" | "503" => (
                "Retry-After",
                HeaderBuilder::new()
                    .schema(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1)),
                    )
                    .description(Some("Seconds to wait before trying again")),
            ),
            "401" => (
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("`Bearer`: sign in and send the token")),
            ),
            _ => continue,
        };
        response
            .headers
            .entry(header.0.to_owned())
            .or_insert_with(|| header.1.build());
    }
}

fn problem_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

/// Serves the document, stamped with this build's version.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    Json(doc)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use quire_core::crypto::kdf::KdfParams;
    use quire_core::protocol::{MAX_PASSWORD_CHARS, MAX_USERNAME_CHARS, USERNAME_PATTERN};
    use serde_json::Value;
    use utoipa::OpenApi;

    use super::ApiDoc;

    fn doc() -> Value {
        serde_json::to_value(ApiDoc::openapi()).unwrap()
    }

    #[test]
    fn the_documented_account_rules_are_the_servers() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        for schema in [
            "Credentials",
            "NewAccount",
            "RecoveryProof",
            "RecoveryReset",
        ] {
            let props = &schemas[schema]["properties"];
            assert_eq!(props["username"]["pattern"], USERNAME_PATTERN, "{schema}");
            assert_eq!(
                props["username"]["maxLength"], MAX_USERNAME_CHARS,
                "{schema}"
            );
        }
        assert_eq!(
            schemas["Credentials"]["properties"]["password"]["maxLength"],
            MAX_PASSWORD_CHARS
        );
        // A new account's password is the auth secret derived from the password.
        let password = &schemas["NewAccount"]["properties"]["password"];
        assert_eq!(password["pattern"], "^[0-9a-f]*$");
        assert_eq!(password["minLength"], 64);
        assert_eq!(password["maxLength"], 64);
    }

    #[test]
    fn the_documented_derivation_bounds_are_the_devices() {
        let doc = doc();
        let props = &doc["components"]["schemas"]["KdfParams"]["properties"];
        for (field, floor) in [
            ("memory_kib", KdfParams::FLOOR.memory_kib),
            ("iterations", KdfParams::FLOOR.iterations),
            ("parallelism", KdfParams::FLOOR.parallelism),
        ] {
            let min = props[field]["minimum"].as_u64().unwrap();
            let max = props[field]["maximum"].as_u64().unwrap();
            assert_eq!(min, u64::from(floor), "{field}");
            let at = |value: u64| {
                let mut params = KdfParams::FLOOR;
                let value = u32::try_from(value).unwrap();
                match field {
                    "memory_kib" => params.memory_kib = value,
                    "iterations" => params.iterations = value,
                    _ => params.parallelism = value,
                }
                params.check()
            };
            assert!(at(max).is_ok(), "{field} {max}");
            assert!(at(max + 1).is_err(), "{field} {max}");
            assert!(at(min - 1).is_err() || min == 0, "{field} {min}");
        }
    }

    #[test]
    fn every_operation_lists_the_transport_answers_as_problems() {
        let doc = doc();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for status in ["408", "413", "415", "503"] {
                    let content = &operation["responses"][status]["content"];
                    assert!(
                        content["application/problem+json"]["schema"]["$ref"]
                            .as_str()
                            .is_some_and(|r| r.ends_with("/Problem")),
                        "{method} {path} {status}: {content}"
                    );
                }
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status == "429" || status == "503" {
                        assert!(
                            response["headers"]["Retry-After"].is_object(),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }
}
