//! The sync protocol over HTTP (reqwest with rustls; zstd and gzip both ways, see [`wire`]),
//! with every failure turned into a typed [`Error`] a person can act on.

mod wire;

use std::sync::Arc;
use std::time::Duration;

use quire_core::protocol::{
    problem, Account, AccountDigest, AccountInfo, BucketNotes, ChangeCount, Credentials, Health,
    KdfInfo, KeysUpgrade, NewAccount, NoteState, PasswordChange, Problem, PullResponse,
    PurgeRequest, PushRequest, PushResponse, RangeDigests, RecoveredKey, RecoveryProof,
    RecoveryReset, Session, UnsealedPage, UpgradeManifest, VersionEntries, VersionsPage,
    API_PREFIX,
};
use reqwest::header::{HeaderMap, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use wire::WireBytes;

use quire_core::settings::ServerUrl;
use quire_core::{DeviceId, NoteId, Version};

use crate::credentials::Secret;
use crate::{Error, Result};

/// How long one request may take before the server counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct ApiClient {
    server: ServerUrl,
    http: reqwest::Client,
    wire: Arc<wire::WireCounters>,
}

/// A push request's body, ready to send (see [`ApiClient::encode_push`]).
pub struct EncodedPush(wire::Outgoing);

/// A successful answer, already unpacked.
struct Answer {
    body: Vec<u8>,
}

impl ApiClient {
    /// A client for `server`. Only a checked URL will do (see `check_server_url`): requests go
    /// to exactly the host that was checked against the plain-HTTP rule.
    pub fn new(server: &ServerUrl) -> Result<Self> {
        Self::with_timeout(server, REQUEST_TIMEOUT)
    }

    /// A client that gives a request up after `timeout` (tests of lost packets use seconds).
    pub fn with_timeout(server: &ServerUrl, timeout: Duration) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("quire/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            // The server closes a connection idle for 10 s; let go of it first, so a request
            // never races that close on a reused connection.
            .pool_idle_timeout(Duration::from_secs(5))
            // Unpacked in `wire`, so the compressed size can be counted.
            .no_gzip()
            .no_zstd()
            .build()
            .map_err(|err| Error::ServerUnreachable {
                server: server.to_string(),
                detail: err.to_string(),
            })?;
        Ok(Self {
            server: server.clone(),
            http,
            wire: Arc::default(),
        })
    }

    /// Body bytes this client (and its clones) sent and received so far, compressed.
    pub fn wire_bytes(&self) -> WireBytes {
        self.wire.snapshot()
    }

    pub fn server(&self) -> &str {
        self.server.as_str()
    }

    /// The checked URL this client talks to, to make another client for the same server.
    pub fn server_url(&self) -> &ServerUrl {
        &self.server
    }

    fn request(&self, method: Method, path: &str, token: Option<&Secret>) -> RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{API_PREFIX}{path}", self.server))
            .header(ACCEPT_ENCODING, "zstd, gzip");
        match token {
            Some(token) => request.bearer_auth(token.expose()),
            None => request,
        }
    }

    /// A JSON body, compressed when that pays.
    fn encode<T: Serialize>(&self, value: &T) -> Result<wire::Outgoing> {
        let json = serde_json::to_vec(value).map_err(|err| Error::ServerProtocol {
            server: self.server.to_string(),
            detail: format!("cannot encode the request: {err}"),
        })?;
        Ok(wire::encode(json))
    }

    /// Adds a JSON body, compressed when that pays.
    fn with_json<T: Serialize>(
        &self,
        request: RequestBuilder,
        value: &T,
    ) -> Result<RequestBuilder> {
        let outgoing = self.encode(value)?;
        Ok(self.with_body(request, outgoing))
    }

    /// Adds a body made by [`Self::encode`].
    fn with_body(&self, request: RequestBuilder, outgoing: wire::Outgoing) -> RequestBuilder {
        self.wire.add_sent(outgoing.body.len());
        let request = request.header(CONTENT_TYPE, "application/json");
        match outgoing.encoding {
            Some(encoding) => request.header(CONTENT_ENCODING, encoding),
            None => request,
        }
        .body(outgoing.body)
    }

    async fn send(&self, request: RequestBuilder) -> Result<Answer> {
        let unreachable = |err: &reqwest::Error| Error::ServerUnreachable {
            server: self.server.to_string(),
            detail: describe_transport_error(err),
        };
        self.wire.add_request();
        let response = request.send().await.map_err(|err| unreachable(&err))?;
        let status = response.status();
        let headers = response.headers().clone();
        let packed = response.bytes().await.map_err(|err| unreachable(&err))?;
        self.wire.add_received(packed.len());
        let encoding = headers
            .get(CONTENT_ENCODING)
            .and_then(|value| value.to_str().ok());
        let body = wire::decode(self.server.as_str(), encoding, &packed)?;
        if status.is_success() {
            return Ok(Answer { body });
        }
        Err(self.refusal(status, &headers, &body))
    }

    /// The error for a non-success answer. Problem bodies carry a sentence for people;
    /// anything else gets the status text.
    fn refusal(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
        let (kind, detail) = match serde_json::from_slice::<Problem>(body) {
            Ok(problem) => (problem.kind, problem.detail.unwrap_or(problem.title)),
            Err(_) => (
                String::new(),
                status.canonical_reason().unwrap_or("error").to_owned(),
            ),
        };
        let server = self.server.to_string();
        match status {
            StatusCode::UNAUTHORIZED => Error::SignInNeeded(detail),
            // Not a batch to split: the account is full whatever the batch's size.
            StatusCode::PAYLOAD_TOO_LARGE if kind == problem::QUOTA_EXCEEDED => {
                Error::StorageFull { server, detail }
            }
            StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge { server, detail },
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => Error::ServerBusy {
                server,
                status: status.as_u16(),
                detail,
                retry_after: retry_after(headers),
            },
            status if status.is_server_error() => Error::ServerBusy {
                server,
                status: status.as_u16(),
                detail,
                retry_after: retry_after(headers),
            },
            status => Error::ServerRefused {
                server,
                status: status.as_u16(),
                detail,
            },
        }
    }

    fn json<T: DeserializeOwned>(&self, answer: &Answer) -> Result<T> {
        serde_json::from_slice(&answer.body).map_err(|err| Error::ServerProtocol {
            server: self.server.to_string(),
            detail: err.to_string(),
        })
    }

    pub async fn health(&self) -> Result<Health> {
        let answer = self
            .send(self.request(Method::GET, "/health", None))
            .await?;
        self.json(&answer)
    }

    /// How `username`'s secrets are derived (asked before signing in). The name must be a
    /// valid username (see `protocol::is_valid_username`): it goes into the path.
    pub async fn kdf(&self, username: &str) -> Result<KdfInfo> {
        let path = format!("/accounts/{username}/kdf");
        let answer = self.send(self.request(Method::GET, &path, None)).await?;
        self.json(&answer)
    }

    pub async fn register(&self, account: &NewAccount) -> Result<Account> {
        let request = self.with_json(self.request(Method::POST, "/accounts", None), account)?;
        let answer = self.send(request).await?;
        self.json(&answer)
    }

    pub async fn login(&self, credentials: &Credentials) -> Result<Session> {
        let request = self.with_json(self.request(Method::POST, "/sessions", None), credentials)?;
        let answer = self.not_a_lost_session(self.send(request).await)?;
        self.json(&answer)
    }

    pub async fn change_password(&self, token: &Secret, change: &PasswordChange) -> Result<()> {
        let request = self.with_json(
            self.request(Method::PUT, "/accounts/current/password", Some(token)),
            change,
        )?;
        self.send(request).await?;
        Ok(())
    }

    pub async fn current_account(&self, token: &Secret) -> Result<AccountInfo> {
        let request = self.request(Method::GET, "/accounts/current", Some(token));
        let answer = self.send(request).await?;
        self.json(&answer)
    }

    pub async fn upgrade(&self, token: &Secret, upgrade: &KeysUpgrade) -> Result<()> {
        let request = self.with_json(
            self.request(Method::POST, "/accounts/current/upgrade", Some(token)),
            upgrade,
        )?;
        self.send(request).await?;
        Ok(())
    }

    pub async fn recovery_key(&self, proof: &RecoveryProof) -> Result<RecoveredKey> {
        let request = self.with_json(self.request(Method::POST, "/recovery/key", None), proof)?;
        let answer = self.not_a_lost_session(self.send(request).await)?;
        self.json(&answer)
    }

    pub async fn recovery_password(&self, reset: &RecoveryReset) -> Result<()> {
        let request = self.with_json(
            self.request(Method::POST, "/recovery/password", None),
            reset,
        )?;
        self.not_a_lost_session(self.send(request).await)?;
        Ok(())
    }

    /// A 401 to a request made without a token is a wrong password or key, not an expired
    /// session.
    fn not_a_lost_session(&self, answer: Result<Answer>) -> Result<Answer> {
        match answer {
            Err(Error::SignInNeeded(detail)) => Err(Error::ServerRefused {
                server: self.server.to_string(),
                status: 401,
                detail,
            }),
            other => other,
        }
    }

    pub async fn logout(&self, token: &Secret) -> Result<()> {
        self.send(self.request(Method::DELETE, "/sessions/current", Some(token)))
            .await?;
        Ok(())
    }

    pub async fn push(&self, token: &Secret, request: &PushRequest) -> Result<PushResponse> {
        let body = self.encode_push(request)?;
        self.push_encoded(token, body).await
    }

    /// A push's body, encoded and compressed ahead of sending: a round makes the next
    /// batch's body while the one before is on the wire.
    pub fn encode_push(&self, request: &PushRequest) -> Result<EncodedPush> {
        self.encode(request).map(EncodedPush)
    }

    pub async fn push_encoded(&self, token: &Secret, body: EncodedPush) -> Result<PushResponse> {
        let request = self.with_body(
            self.request(Method::POST, "/sync/push", Some(token)),
            body.0,
        );
        let answer = self.send(request).await?;
        self.json(&answer)
    }

    /// Changes after `since`; those `device` made itself come without their text (it has
    /// them already).
    pub async fn pull(
        &self,
        token: &Secret,
        since: u64,
        limit: u32,
        device: Option<DeviceId>,
    ) -> Result<PullResponse> {
        let mut query = vec![("since", since.to_string()), ("limit", limit.to_string())];
        if let Some(device) = device {
            query.push(("device", device.to_string()));
        }
        let request = self
            .request(Method::GET, "/sync/pull", Some(token))
            .query(&query);
        let answer = self.send(request).await?;
        self.json(&answer)
    }

    /// How many notes a pull from `since` would bring `device`, without bringing them.
    pub async fn change_count(
        &self,
        token: &Secret,
        since: u64,
        device: DeviceId,
    ) -> Result<ChangeCount> {
        let query = [("since", since.to_string()), ("device", device.to_string())];
        let request = self
            .request(Method::GET, "/sync/changes/count", Some(token))
            .query(&query);
        let answer = self.send(request).await?;
        self.json(&answer)
    }

    /// A note as the server has it now.
    pub async fn note(&self, token: &Secret, id: NoteId) -> Result<NoteState> {
        let answer = self
            .send(self.request(Method::GET, &format!("/notes/{id}"), Some(token)))
            .await?;
        self.json(&answer)
    }

    /// The account's digest and the cursor it belongs to.
    pub async fn digest(&self, token: &Secret) -> Result<AccountDigest> {
        let answer = self
            .send(self.request(Method::GET, "/sync/digest", Some(token)))
            .await?;
        self.json(&answer)
    }

    /// The digests of buckets `from..to`, in ranges of `width`.
    pub async fn digest_ranges(
        &self,
        token: &Secret,
        from: u16,
        to: u16,
        width: u16,
    ) -> Result<RangeDigests> {
        let query = [("from", from), ("to", to), ("width", width)];
        let request = self
            .request(Method::GET, "/sync/digest/ranges", Some(token))
            .query(&query);
        let answer = self.send(request).await?;
        self.json(&answer)
    }

    /// A page of one bucket's notes as the digest counts them, after `after`.
    pub async fn bucket_notes(
        &self,
        token: &Secret,
        bucket: u16,
        after: Option<NoteId>,
    ) -> Result<BucketNotes> {
        let mut query = vec![("bucket", bucket.to_string())];
        if let Some(after) = after {
            query.push(("after", after.to_string()));
        }
        let request = self
            .request(Method::GET, "/sync/digest/notes", Some(token))
            .query(&query);
        let answer = self.send(request).await?;
        self.json(&answer)
    }

    /// A page of a note's versions, newest first, older than `before`.
    pub async fn versions(
        &self,
        token: &Secret,
        id: NoteId,
        before: Option<Version>,
        limit: u32,
    ) -> Result<VersionsPage> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(before) = before {
            query.push(("before", before.0.to_string()));
        }
        let request = self
            .request(Method::GET, &format!("/notes/{id}/versions"), Some(token))
            .query(&query);
        let answer = self.send(request).await?;
        self.json(&answer)
    }

    /// The sealed entries that rebuild version `version` of a note.
    pub async fn version(
        &self,
        token: &Secret,
        id: NoteId,
        version: Version,
    ) -> Result<VersionEntries> {
        let path = format!("/notes/{id}/versions/{}", version.0);
        let answer = self
            .send(self.request(Method::GET, &path, Some(token)))
            .await?;
        self.json(&answer)
    }

    /// Deletes a note forever on the server, if it is still at `seen` (the version this
    /// device last saw): its text and history go, and every device learns of it from its
    /// pull. `Ok(true)` when done (or done already, or the server never had the note);
    /// `Ok(false)` when it changed since: edited elsewhere, which beats a delete.
    pub async fn purge(
        &self,
        token: &Secret,
        id: NoteId,
        seen: Option<Version>,
        marker: &PurgeRequest,
    ) -> Result<bool> {
        let mut request = self.request(Method::DELETE, &format!("/notes/{id}"), Some(token));
        if let Some(seen) = seen {
            request = request.query(&[("version", seen.0)]);
        }
        let request = self.with_json(request, marker)?;
        match self.send(request).await {
            Ok(_) | Err(Error::ServerRefused { status: 404, .. }) => Ok(true),
            Err(Error::ServerRefused { status: 409, .. }) if seen.is_some() => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// What the account held in the clear when it was upgraded (sealed), if an upgrade of
    /// it is unfinished.
    pub async fn upgrade_manifest(&self, token: &Secret) -> Result<Option<UpgradeManifest>> {
        let request = self.request(
            Method::GET,
            "/accounts/current/upgrade-manifest",
            Some(token),
        );
        match self.send(request).await {
            Ok(answer) => self.json(&answer).map(Some),
            Err(Error::ServerRefused { status: 404, .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// An upgraded account's notes still in the clear, after `after`, in order of id.
    pub async fn unsealed(
        &self,
        token: &Secret,
        after: Option<NoteId>,
        limit: u32,
    ) -> Result<UnsealedPage> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(after) = after {
            query.push(("after", after.to_string()));
        }
        let request = self
            .request(Method::GET, "/notes/unsealed", Some(token))
            .query(&query);
        let answer = self.send(request).await?;
        self.json(&answer)
    }
}

/// `Retry-After` in seconds (the form Quire's server sends); a date form counts as absent.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
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
