//! The sync server's address: parsed once, normalised, and checked against the plain-HTTP
//! rule (PRODUCT.md, "Security": plain `http://` only to this machine unless allowed).
//!
//! The client hands reqwest the normalised text this module returns, and reqwest parses it
//! with the same WHATWG parser (`url`), so the host checked here is the host connected to.
//! Checking a hand-split string instead is how `http://0.0.0.0:18790\@127.0.0.1:18787` once
//! passed as 127.0.0.1 while reqwest sent the password to 0.0.0.0 (issue 15, part 10).
//!
//! Addresses WHATWG rewrites are accepted as rewritten: `http://0x7f.1`, `http://127.1` and
//! `http://2130706433` all become `http://127.0.0.1` and are stored and used in that form,
//! which is the machine they name. Only a literal loopback address (127.0.0.0/8, `::1`) or
//! the name `localhost` counts as this machine; `0.0.0.0`, `[::]`, IPv4-mapped IPv6 and names
//! such as `app.localhost` or `localhost.` do not, since a resolver may send those elsewhere.

use std::fmt;

use url::{Host, Url};

use crate::settings::{SettingError, SettingKey};

/// A sync server's base URL that passed [`check_server_url`], in the normalised form that is
/// stored and used. Only made by that check, so a client built from one talks to the host
/// that was checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerUrl(String);

impl ServerUrl {
    /// The base URL without a trailing slash: append `/v1/...` to make a request URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A sync server address a device may talk to.
///
/// `https://` always; `http://` only to this machine (127.0.0.0/8, `::1`, `localhost`)
/// unless the person explicitly allowed plain HTTP, since tokens and notes would otherwise
/// cross the network in the clear.
pub fn check_server_url(url: &str, allow_insecure_http: bool) -> Result<ServerUrl, SettingError> {
    let parsed = parse(url)?;
    let normalised = normalise(&parsed);
    if parsed.scheme() == "http" && !allow_insecure_http && !is_this_machine(&parsed) {
        return Err(SettingError::InsecureHttp(normalised));
    }
    Ok(ServerUrl(normalised))
}

/// The `server` setting's check: a well-formed base URL, normalised; whether plain HTTP may
/// go there is decided when it is used ([`check_server_url`]).
pub(crate) fn normalise_setting(value: &str) -> Result<String, SettingError> {
    parse(value).map(|url| normalise(&url))
}

fn parse(value: &str) -> Result<Url, SettingError> {
    let value = value.trim();
    let invalid = |expected: &'static str| SettingError::InvalidValue {
        key: SettingKey::Server.name(),
        value: value.to_owned(),
        expected,
    };
    // A base URL never needs `@`, and whatever stands before one is a user name and password
    // that would be sent along (and is not echoed back in the error). Refusing the character
    // also ends the `user@host` tricks where people and parsers disagree on the host.
    if value.contains('@') {
        return Err(SettingError::CredentialsInServerUrl);
    }
    // WHATWG reads `\` as `/` and drops tabs and newlines inside a URL; other readers (people,
    // RFC 3986 parsers, the guard this replaced) do not, so such a URL names two hosts.
    if value.contains('\\') || value.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "an http:// or https:// URL without backslashes, spaces or control characters",
        ));
    }
    let url = Url::parse(value).map_err(|_| invalid("an http:// or https:// URL with a host"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("an http:// or https:// URL"));
    }
    if url.host().is_none() {
        return Err(invalid("an http:// or https:// URL with a host"));
    }
    // Unreachable after the `@` check, but this is the property that matters: no credentials
    // ride along in the URL.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SettingError::CredentialsInServerUrl);
    }
    // Request paths are appended to the base URL; a query or fragment would swallow them.
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL without ?query or #fragment"));
    }
    Ok(url)
}

/// The URL as WHATWG serialises it (lower-case scheme and host, default port dropped, IP
/// addresses in canonical form), without the trailing slash. Parsing the result again gives
/// the same URL, so this text is safe to store and to hand to reqwest.
fn normalise(url: &Url) -> String {
    // With no query or fragment the serialisation ends in the path, which starts with `/`
    // after the host, so trimming slashes never reaches the host or port.
    url.as_str().trim_end_matches('/').to_owned()
}

fn is_this_machine(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        // The hosts file answers for `localhost` itself; other names go to the resolver.
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use proptest::prelude::*;

    use super::*;

    /// What the check makes of one input.
    #[derive(Debug, Clone, Copy)]
    enum Expect {
        /// This machine: allowed without the permission, as this normalised URL.
        Local(&'static str),
        /// Another machine: https, or plain http with the permission only.
        Remote(&'static str),
        /// Refused even with the permission: credentials in the URL.
        Credentials,
        /// Refused even with the permission: not a usable server URL.
        Invalid,
    }
    use Expect::{Credentials, Invalid, Local, Remote};

    // One case a line, to read as a table.
    #[rustfmt::skip]
    const CASES: &[(&str, Expect)] = &[
        // The attack from issue 15: reqwest reads the host as 0.0.0.0, the old guard as 127.0.0.1.
        (r"http://0.0.0.0:18790\@127.0.0.1:18787", Credentials),
        (r"http://evil.example\@127.0.0.1", Credentials),
        (r"http://evil.example\\127.0.0.1", Invalid),
        (r"http://127.0.0.1\evil.example", Invalid),
        ("http://127.0.0.1@evil.example", Credentials),
        ("http://user:pw@127.0.0.1:8787", Credentials),
        ("https://user:pw@sync.example.com", Credentials),
        ("http://evil.example%40127.0.0.1", Invalid),
        ("http://127.0.0.1%2eevil.example", Remote("http://127.0.0.1.evil.example")),
        ("http://%31%32%37.0.0.1:8787", Local("http://127.0.0.1:8787")),
        ("http://evil.example#@127.0.0.1", Credentials),
        ("http://evil.example#127.0.0.1", Invalid),
        ("http://evil.example?127.0.0.1", Invalid),
        ("http://evil.example/127.0.0.1", Remote("http://evil.example/127.0.0.1")),
        ("http://127.0.0.1/..//evil.example", Local("http://127.0.0.1//evil.example")),
        ("http://127.0.0.1.evil.example", Remote("http://127.0.0.1.evil.example")),
        ("http://localhost.evil.example", Remote("http://localhost.evil.example")),
        ("http://evil.example\t.localhost", Invalid),
        ("http://127.0.0.1\n.evil.example", Invalid),
        ("http://127.0.0.1:8787", Local("http://127.0.0.1:8787")),
        (" http://127.8.9.1/ ", Local("http://127.8.9.1")),
        ("http://[::1]:8787", Local("http://[::1]:8787")),
        ("http://[0:0:0:0:0:0:0:1]", Local("http://[::1]")),
        ("http://[::]:8787", Remote("http://[::]:8787")),
        ("http://[::ffff:127.0.0.1]", Remote("http://[::ffff:7f00:1]")),
        ("http://[fe80::1]:8787", Remote("http://[fe80::1]:8787")),
        ("http://[::1", Invalid),
        ("http://LOCALHOST:1", Local("http://localhost:1")),
        ("HTTP://LocalHost:80/", Local("http://localhost")),
        ("http://localhost.", Remote("http://localhost.")),
        ("http://app.localhost", Remote("http://app.localhost")),
        // WHATWG reads these as 127.0.0.1, and so does reqwest: this machine, stored as such.
        ("http://0x7f.1:80", Local("http://127.0.0.1")),
        ("http://127.1", Local("http://127.0.0.1")),
        ("http://2130706433", Local("http://127.0.0.1")),
        ("http://0177.0.0.1", Local("http://127.0.0.1")),
        ("http://127.0.0.1.", Local("http://127.0.0.1")),
        // 0.0.0.0 reaches this machine on Linux, but it is not a loopback address.
        ("http://0.0.0.0:1", Remote("http://0.0.0.0:1")),
        ("http://0:1", Remote("http://0.0.0.0:1")),
        ("http://192.168.1.10:8787", Remote("http://192.168.1.10:8787")),
        ("http://sync.example.com", Remote("http://sync.example.com")),
        ("https://sync.example.com/", Remote("https://sync.example.com")),
        ("HTTPS://Sync.Example.COM:443/quire/", Remote("https://sync.example.com/quire")),
        ("http:127.0.0.1", Local("http://127.0.0.1")),
        ("http://127.0.0.1:18787.evil.example", Invalid),
        ("http://127.0.0.1:99999", Invalid),
        ("ftp://127.0.0.1", Invalid),
        ("file:///etc/passwd", Invalid),
        ("127.0.0.1:8787", Invalid),
        ("localhost:8787", Invalid),
        ("sync.example.com", Invalid),
        ("https://", Invalid),
        ("", Invalid),
    ];

    #[test]
    fn only_this_machine_gets_plain_http_without_permission() {
        for &(input, expect) in CASES {
            let strict = check_server_url(input, false);
            let allowed = check_server_url(input, true);
            match expect {
                Local(url) => {
                    assert_eq!(strict.unwrap().as_str(), url, "{input:?}");
                    assert_eq!(allowed.unwrap().as_str(), url, "{input:?} with permission");
                }
                Remote(url) => {
                    if url.starts_with("https://") {
                        assert_eq!(strict.unwrap().as_str(), url, "{input:?}");
                    } else {
                        assert_eq!(
                            strict,
                            Err(SettingError::InsecureHttp(url.to_owned())),
                            "{input:?}"
                        );
                    }
                    assert_eq!(allowed.unwrap().as_str(), url, "{input:?} with permission");
                }
                Credentials => {
                    assert_eq!(
                        strict,
                        Err(SettingError::CredentialsInServerUrl),
                        "{input:?}"
                    );
                    assert_eq!(allowed, strict, "{input:?} with permission");
                }
                Invalid => {
                    assert!(
                        matches!(strict, Err(SettingError::InvalidValue { .. })),
                        "{input:?}: {strict:?}"
                    );
                    assert_eq!(allowed, strict, "{input:?} with permission");
                }
            }
        }
    }

    #[test]
    fn the_setting_is_normalised_like_the_check() {
        for &(input, _) in CASES {
            assert_eq!(
                normalise_setting(input),
                check_server_url(input, true).map(|url| url.as_str().to_owned()),
                "{input:?}"
            );
        }
    }

    #[test]
    fn errors_say_how_to_fix_them_and_keep_passwords_out() {
        let err = check_server_url("http://sync.example.com", false).unwrap_err();
        assert!(err.to_string().contains("--insecure-http"), "{err}");
        let err = check_server_url("https://ada:secret@sync.example.com", false).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(err.to_string().contains("sign in"), "{err}");
    }

    /// A scheme, a host, then pieces of URLs, including the ones parsers disagree about.
    fn url_like() -> impl Strategy<Value = String> {
        let scheme = prop::sample::select(vec![
            "http://",
            "HTTP://",
            "https://",
            "http:",
            "http:/",
            "http:\\\\",
            "ftp://",
        ]);
        let host = prop::sample::select(vec![
            "127.0.0.1",
            "0.0.0.0",
            "0",
            "0x7f.1",
            "127.1",
            "localhost",
            "LocalHost",
            "localhost.",
            "evil.example",
            "127.0.0.1.evil.example",
            "[::1]",
            "[::]",
            "[::ffff:127.0.0.1]",
            "%31%32%37.0.0.1",
            "user:pw@127.0.0.1",
            "",
        ]);
        let tail = prop::collection::vec(
            prop::sample::select(vec![
                ":",
                "18787",
                "/",
                "\\",
                "@",
                "#",
                "?",
                ".",
                "..",
                "%2e",
                "%40",
                "%5c",
                "%00",
                "\t",
                " ",
                "127.0.0.1",
                "0.0.0.0",
                "evil.example",
                "localhost",
                "[",
                "]",
                "::1",
                "xn--",
                "ß",
                "。",
            ]),
            0..6,
        );
        (scheme, host, tail)
            .prop_map(|(scheme, host, tail)| format!("{scheme}{host}{}", tail.concat()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Whatever the input, an accepted URL parses back to itself, a request URL made from
        /// it goes to the same host and port, and without the permission that host is this
        /// machine's loopback (or the URL is https).
        #[test]
        fn what_is_checked_is_what_is_used(input in url_like(), allow in any::<bool>()) {
            if let Ok(checked) = check_server_url(&input, allow) {
                let base = Url::parse(checked.as_str()).unwrap();
                let request = Url::parse(&format!("{checked}/v1/sessions")).unwrap();
                prop_assert_eq!(base.host(), request.host());
                prop_assert_eq!(base.port_or_known_default(), request.port_or_known_default());
                prop_assert_eq!(request.scheme(), base.scheme());
                prop_assert!(request.username().is_empty() && request.password().is_none());
                prop_assert_eq!(check_server_url(checked.as_str(), allow), Ok(checked.clone()));
                // Spelled out here rather than calling `is_this_machine`, to check it.
                let loopback = request.host_str() == Some("localhost")
                    || request.host_str() == Some("[::1]")
                    || request
                        .host_str()
                        .and_then(|host| host.parse::<std::net::Ipv4Addr>().ok())
                        .is_some_and(|ip| ip.octets()[0] == 127);
                if !allow && request.scheme() == "http" {
                    prop_assert!(loopback, "{} accepted as {}", input, checked);
                }
            }
        }
    }
}
