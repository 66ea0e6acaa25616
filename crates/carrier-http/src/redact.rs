//! What of a request may appear in an error or a log line.

use url::Url;

/// The text that replaces every query value in a redacted URL.
const REDACTED: &str = "REDACTED";

/// A URL as it may appear in messages and logs: scheme, host, port, path and the *names* of the
/// query parameters, each value replaced by `REDACTED` — no user info, no fragment.
pub fn redact_url(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(url.path());
    let names: Vec<String> = url
        .query_pairs()
        .map(|(name, _)| format!("{}={REDACTED}", percent_safe(&name)))
        .collect();
    if !names.is_empty() {
        out.push('?');
        out.push_str(&names.join("&"));
    }
    out
}

/// A query name as printed: anything but ASCII letters, digits, `_`, `-` and `.` becomes `_`,
/// so a "name" carrying a secret by accident cannot smuggle markup or line breaks into a log.
fn percent_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A reqwest error's description without its URL: the error and its sources, joined.
pub fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut parts = vec![error.to_string()];
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// A header value that is never logged or shown (`HeaderValue::set_sensitive`); `None` when the
/// value cannot be a header (the request is then not sent).
pub fn sensitive_header(value: &str) -> Option<reqwest::header::HeaderValue> {
    let mut header = reqwest::header::HeaderValue::from_str(value).ok()?;
    header.set_sensitive(true);
    Some(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_user_info_query_values_and_fragment() {
        let url = Url::parse(
            "https://user:hunter2@apis.usps.com:8443/oauth2/v3/token?client_secret=s3cr3t&scope=x#frag",
        )
        .unwrap();
        assert_eq!(
            redact_url(&url),
            "https://apis.usps.com:8443/oauth2/v3/token?client_secret=REDACTED&scope=REDACTED"
        );
    }

    #[test]
    fn a_url_without_a_query_keeps_its_path() {
        let url = Url::parse("https://wwwcie.ups.com/api/shipments/v2409/ship").unwrap();
        assert_eq!(
            redact_url(&url),
            "https://wwwcie.ups.com/api/shipments/v2409/ship"
        );
    }

    #[test]
    fn odd_query_names_cannot_break_a_log_line() {
        let url = Url::parse("https://h.example/p?a%0Ab=1").unwrap();
        assert_eq!(redact_url(&url), "https://h.example/p?a_b=REDACTED");
    }

    #[test]
    fn sensitive_headers_hide_their_value_and_refuse_line_breaks() {
        let header = sensitive_header("Bearer sentinel-token").unwrap();
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("sentinel-token"));
        assert!(sensitive_header("a\r\nb").is_none());
    }
}
