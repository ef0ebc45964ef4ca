//! The sync protocol over HTTP (reqwest with rustls; gzip and zstd both ways), with every
//! failure turned into a typed [`Error`] a person can act on.

use std::time::Duration;

use quire_core::protocol::{
    Account, Credentials, Health, Problem, PullResponse, PushRequest, PushResponse, Session,
    API_PREFIX,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::credentials::Secret;
use crate::{Error, Result};

/// How long one request may take before the server counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct ApiClient {
    server: String,
    http: reqwest::Client,
}

impl ApiClient {
    /// A client for `server` (an already checked base URL, see `check_server_url`).
    pub fn new(server: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("quire/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|err| Error::ServerUnreachable {
                server: server.to_owned(),
                detail: err.to_string(),
            })?;
        Ok(Self {
            server: server.trim_end_matches('/').to_owned(),
            http,
        })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    fn request(&self, method: Method, path: &str, token: Option<&Secret>) -> RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{API_PREFIX}{path}", self.server));
        match token {
            Some(token) => request.bearer_auth(token.expose()),
            None => request,
        }
    }

    async fn send(&self, request: RequestBuilder) -> Result<Response> {
        let response = request
            .send()
            .await
            .map_err(|err| Error::ServerUnreachable {
                server: self.server.clone(),
                detail: describe_transport_error(&err),
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        // Problem bodies carry a sentence for people; anything else gets the status text.
        let detail = match response.json::<Problem>().await {
            Ok(problem) => problem.detail.unwrap_or(problem.title),
            Err(_) => status.canonical_reason().unwrap_or("error").to_owned(),
        };
        Err(if status == StatusCode::UNAUTHORIZED {
            Error::SignInNeeded(detail)
        } else {
            Error::ServerRefused {
                server: self.server.clone(),
                status: status.as_u16(),
                detail,
            }
        })
    }

    async fn json<T: DeserializeOwned>(&self, response: Response) -> Result<T> {
        response.json().await.map_err(|err| Error::ServerProtocol {
            server: self.server.clone(),
            detail: err.to_string(),
        })
    }

    pub async fn health(&self) -> Result<Health> {
        let response = self
            .send(self.request(Method::GET, "/health", None))
            .await?;
        self.json(response).await
    }

    pub async fn register(&self, credentials: &Credentials) -> Result<Account> {
        let request = self
            .request(Method::POST, "/accounts", None)
            .json(credentials);
        let response = self.send(request).await?;
        self.json(response).await
    }

    pub async fn login(&self, credentials: &Credentials) -> Result<Session> {
        let request = self
            .request(Method::POST, "/sessions", None)
            .json(credentials);
        match self.send(request).await {
            // A 401 here is a wrong password, not an expired session.
            Err(Error::SignInNeeded(detail)) => Err(Error::ServerRefused {
                server: self.server.clone(),
                status: 401,
                detail,
            }),
            other => self.json(other?).await,
        }
    }

    pub async fn logout(&self, token: &Secret) -> Result<()> {
        self.send(self.request(Method::DELETE, "/sessions/current", Some(token)))
            .await?;
        Ok(())
    }

    pub async fn push(&self, token: &Secret, request: &PushRequest) -> Result<PushResponse> {
        let response = self
            .send(
                self.request(Method::POST, "/sync/push", Some(token))
                    .json(request),
            )
            .await?;
        self.json(response).await
    }

    pub async fn pull(&self, token: &Secret, since: u64, limit: u32) -> Result<PullResponse> {
        let request = self
            .request(Method::GET, "/sync/pull", Some(token))
            .query(&[("since", since), ("limit", u64::from(limit))]);
        let response = self.send(request).await?;
        self.json(response).await
    }
}

/// reqwest's errors nest their cause; people need the innermost sentence.
fn describe_transport_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "it did not answer in time".to_owned();
    }
    let mut source: &dyn std::error::Error = err;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}
