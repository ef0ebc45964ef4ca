//! Bodies on the wire: requests above a small size go out zstd-compressed, responses are
//! asked for compressed and unpacked here (not inside reqwest) so the bytes that really
//! crossed the network can be counted for `quire sync --json`.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// Smaller request bodies gain nothing from compression.
const COMPRESS_FROM: usize = 512;
/// A response that unpacks to more than this is refused (a decompression bomb, or a bug).
const MAX_UNPACKED: u64 = 1 << 30;

/// Body bytes sent and received, as they crossed the network (compressed).
#[derive(Debug, Default)]
pub struct WireCounters {
    sent: AtomicU64,
    received: AtomicU64,
    requests: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireBytes {
    pub sent: u64,
    pub received: u64,
    /// Requests sent (answered or not).
    pub requests: u64,
}

impl WireCounters {
    pub fn add_sent(&self, bytes: usize) {
        self.sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn add_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_received(&self, bytes: usize) {
        self.received.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> WireBytes {
        WireBytes {
            sent: self.sent.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }
}

impl std::ops::Sub for WireBytes {
    type Output = Self;
    fn sub(self, earlier: Self) -> Self {
        Self {
            sent: self.sent.saturating_sub(earlier.sent),
            received: self.received.saturating_sub(earlier.received),
            requests: self.requests.saturating_sub(earlier.requests),
        }
    }
}

/// A request body ready to send, and the `Content-Encoding` it needs (if any).
pub struct Outgoing {
    pub body: Vec<u8>,
    pub encoding: Option<&'static str>,
}

pub fn encode(json: Vec<u8>) -> Outgoing {
    if json.len() >= COMPRESS_FROM {
        // The fastest level: a sealed push is mostly base64 of ciphertext, whose only
        // redundancy is the encoding.
        if let Ok(packed) = zstd::bulk::compress(&json, 1) {
            if packed.len() < json.len() {
                return Outgoing {
                    body: packed,
                    encoding: Some("zstd"),
                };
            }
        }
    }
    Outgoing {
        body: json,
        encoding: None,
    }
}

/// Unpacks a response body from `server` by its `Content-Encoding`; a body that cannot be
/// unpacked is the server breaking the protocol.
pub fn decode(server: &str, encoding: Option<&str>, body: &[u8]) -> Result<Vec<u8>> {
    let broken = |detail: String| Error::ServerProtocol {
        server: server.to_owned(),
        detail,
    };
    let mut out = Vec::new();
    let read = match encoding.map(str::trim) {
        None | Some("" | "identity") => return Ok(body.to_vec()),
        Some("zstd") => zstd::stream::read::Decoder::new(body)
            .map_err(|err| broken(err.to_string()))?
            .take(MAX_UNPACKED + 1)
            .read_to_end(&mut out),
        Some("gzip") => flate2::read::GzDecoder::new(body)
            .take(MAX_UNPACKED + 1)
            .read_to_end(&mut out),
        Some(other) => return Err(broken(format!("unknown content encoding {other:?}"))),
    };
    read.map_err(|err| broken(format!("cannot unpack the response: {err}")))?;
    if out.len() as u64 > MAX_UNPACKED {
        return Err(broken("the response unpacks to more than 1 GiB".to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn small_bodies_go_as_they_are() {
        let out = encode(b"{\"ops\":[]}".to_vec());
        assert_eq!(out.encoding, None);
        assert_eq!(out.body, b"{\"ops\":[]}");
    }

    #[test]
    fn large_bodies_are_compressed_and_come_back_whole() {
        let json = serde_json::to_vec(&vec!["the same words again"; 500]).unwrap();
        let out = encode(json.clone());
        assert_eq!(out.encoding, Some("zstd"));
        assert!(
            out.body.len() * 10 < json.len(),
            "{} of {}",
            out.body.len(),
            json.len()
        );
        assert_eq!(decode("s", out.encoding, &out.body).unwrap(), json);
    }

    #[test]
    fn gzip_identity_and_unknown_encodings() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello").unwrap();
        assert_eq!(
            decode("s", Some("gzip"), &gz.finish().unwrap()).unwrap(),
            b"hello"
        );
        assert_eq!(decode("s", None, b"plain").unwrap(), b"plain");
        assert_eq!(decode("s", Some("identity"), b"plain").unwrap(), b"plain");
        assert!(decode("s", Some("br"), b"x")
            .unwrap_err()
            .to_string()
            .contains("br"));
        assert!(decode("s", Some("zstd"), b"not zstd").is_err());
    }

    #[test]
    fn counters_subtract_to_what_one_round_used() {
        let counters = WireCounters::default();
        counters.add_sent(10);
        let before = counters.snapshot();
        counters.add_sent(5);
        counters.add_received(7);
        counters.add_request();
        assert_eq!(
            counters.snapshot() - before,
            WireBytes {
                sent: 5,
                received: 7,
                requests: 1,
            }
        );
    }
}
