//! Links in a note's preview open in the person's browser, never in the app window. Only
//! web and mail links: a note is text anyone could have written (a shared vault, a synced
//! device), so `file:`, `javascript:` and custom schemes that would start other programs
//! are refused.

use quire_client::ErrorCode;

use crate::error::CommandError;

/// Schemes a preview link may open.
const OPENABLE: &[&str] = &["http", "https", "mailto"];

/// The longest link handed over: far beyond any real address, well inside what a command
/// line takes.
const MAX_LINK_BYTES: usize = 8 * 1024;

/// The parts of a `mailto:` link kept: a mail program may honour others, such as `attach=`,
/// which would put a file of this computer in the message.
const MAIL_FIELDS: &[&str] = &["to", "cc", "bcc", "subject", "body"];

/// The link, checked and normalized, when it may be opened.
pub fn openable(link: &str) -> Result<url::Url, CommandError> {
    let refused = |why: &str| CommandError {
        code: ErrorCode::Invalid,
        message: format!("This link cannot be opened: {why}"),
    };
    if link.len() > MAX_LINK_BYTES {
        return Err(refused("it is too long"));
    }
    let mut url = url::Url::parse(link).map_err(|_| refused("it is not a web address"))?;
    if !OPENABLE.contains(&url.scheme()) {
        return Err(refused("only web and mail links open from a note"));
    }
    if url.scheme() == "mailto" {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(key, _)| MAIL_FIELDS.contains(&key.to_ascii_lowercase().as_str()))
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
    }
    Ok(url)
}

/// Hands the link to the desktop's opener (the default browser or mail program).
pub fn open_in_browser(link: &str) -> Result<(), CommandError> {
    let url = openable(link)?;
    // One argument, no shell: the address cannot become a command line.
    let mut child = std::process::Command::new("xdg-open")
        .arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|err| CommandError {
            code: ErrorCode::Invalid,
            message: format!("No program to open links was found (xdg-open: {err})"),
        })?;
    // Reaped in the background, so no exited opener is left behind.
    std::thread::spawn(move || child.wait());
    tracing::info!(scheme = url.scheme(), "opened a link from a note");
    Ok(())
}

/// The window never leaves the app's own pages: a link that got past the preview's click
/// handler (or anything else that tries to navigate) is stopped here and logged.
pub fn navigation_guard<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_webview, url| {
            let allowed = is_app_page(url);
            if !allowed {
                tracing::warn!(scheme = url.scheme(), "stopped the window navigating away");
            }
            allowed
        })
        .build()
}

/// The app's own pages: its bundled UI (`tauri://localhost`; `http://tauri.localhost` on
/// Windows, where custom schemes go over http, and an ordinary host name elsewhere) and, in
/// a dev build, the Vite server.
fn is_app_page(url: &url::Url) -> bool {
    let host = url.host_str();
    match url.scheme() {
        "tauri" => host == Some("localhost"),
        "http" | "https" if host == Some("tauri.localhost") => cfg!(windows),
        "http" => cfg!(debug_assertions) && host == Some("localhost") && url.port() == Some(5173),
        "about" => url.path() == "blank",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{is_app_page, openable};

    #[test]
    fn the_window_stays_on_the_apps_pages() {
        for page in [
            "tauri://localhost/",
            "tauri://localhost/index.html",
            "about:blank",
        ] {
            assert!(is_app_page(&url::Url::parse(page).unwrap()), "{page}");
        }
        for page in [
            "https://example.org/",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "tauri://evil/",
            "http://localhost:8787/v1/health",
            "http://tauri.localhost/",
            "data:text/html,hi",
        ] {
            assert!(!is_app_page(&url::Url::parse(page).unwrap()), "{page}");
        }
    }

    #[test]
    fn only_web_and_mail_links_open() {
        for link in [
            "https://example.org/a?b=c",
            "http://localhost:8080/",
            "mailto:someone@example.org",
        ] {
            assert!(openable(link).is_ok(), "{link}");
        }
        for link in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "steam://run/1",
            "relative/path",
            "",
        ] {
            assert!(openable(link).is_err(), "{link}");
        }
        let long = format!("https://example.org/{}", "a".repeat(10_000));
        assert!(openable(&long).is_err());
        // A mail link keeps its address, subject and text, and nothing that attaches files.
        let mail =
            openable("mailto:a@example.org?subject=Hi&attach=/home/u/.ssh/id_rsa&Body=x").unwrap();
        assert_eq!(mail.as_str(), "mailto:a@example.org?subject=Hi&Body=x");
        let plain = openable("mailto:a@example.org?attachment=/etc/passwd").unwrap();
        assert_eq!(plain.as_str(), "mailto:a@example.org");
    }
}
