//! The platform's side of Track Alert's `clientOauth2` security (UPSTrackAlert.yaml, the
//! `TrackingEvent` webhook): UPS gets a token from *our* token URL with the client
//! credentials registered for the app in UPS's portal ("Manage Webhook Credentials";
//! `x-tokenEndpointAuthMethod: client_secret_basic`), then POSTs each event with
//! `Authorization: Bearer <token>`, `x-api-key: <client id>` ("holds the clientID of the OAUTH
//! token used for authentication") and `User-Agent: UPSPubSubTrackingService`.
//!
//! The token endpoint is an OAuth 2.0 client-credentials grant (RFC 6749 §4.4): HTTP Basic
//! client authentication (§2.3.1) and the form body `grant_type=client_credentials`. Tokens
//! are stateless, so any server instance checks a token another minted: `v1.<expiry>.<nonce>.
//! <mac>`, the MAC an HMAC-SHA256 over the version, expiry, nonce and client id, keyed with a
//! key derived from the listener secret (HMAC-SHA256 of the secret over a fixed label). They
//! last [`TOKEN_LIFETIME`]. Comparisons of credentials and MACs take constant time.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use carrier::tracking::{ListenerToken, NotificationError};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::distr::{Alphanumeric, SampleString};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// How long a minted listener token is good for.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

const TOKEN_VERSION: &str = "v1";
const KEY_LABEL: &[u8] = b"backhaul/ups-track-alert/listener-token/v1";

/// The client credentials the platform registered in UPS's portal for Track Alert to fetch
/// listener tokens with. `Debug` redacts the secret.
#[derive(Clone)]
pub struct ListenerCredentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
}

impl ListenerCredentials {
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
        }
    }

    fn key(&self) -> [u8; 32] {
        let mut mac = mac_with(self.client_secret.expose_secret().as_bytes());
        mac.update(KEY_LABEL);
        mac.finalize().into_bytes().into()
    }

    fn token_mac(&self, expires: i64, nonce: &str) -> [u8; 32] {
        let mut mac = mac_with(&self.key());
        mac.update(format!("{TOKEN_VERSION}.{expires}.{nonce}.").as_bytes());
        mac.update(self.client_id.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Answers a token request: Basic credentials equal to ours and a client-credentials
    /// grant.
    pub(crate) fn token(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<ListenerToken, NotificationError> {
        let (id, secret) = basic_credentials(headers).ok_or(NotificationError::Unauthenticated(
            "the token request has no valid Basic client credentials",
        ))?;
        // RFC 6749 §2.3.1 has both parts form-urlencoded before they are joined; both readings
        // are tried, so a client that does not encode matches too.
        let matches = |id: &str, secret: &str| {
            same(id, &self.client_id) & same(secret, self.client_secret.expose_secret())
        };
        let raw = matches(&id, &secret);
        let decoded = matches(&form_decoded(&id), &form_decoded(&secret));
        if !(raw | decoded) {
            return Err(NotificationError::Unauthenticated(
                "the token request's client credentials are not the listener's",
            ));
        }
        let mut grant = None;
        for (name, value) in url::form_urlencoded::parse(body) {
            if name == "grant_type" {
                if grant.is_some() {
                    return Err(NotificationError::Malformed(
                        "grant_type is given more than once".to_owned(),
                    ));
                }
                grant = Some(value.into_owned());
            }
        }
        if grant.as_deref() != Some("client_credentials") {
            return Err(NotificationError::Malformed(
                "grant_type must be client_credentials".to_owned(),
            ));
        }
        let lifetime = i64::try_from(TOKEN_LIFETIME.as_secs()).unwrap_or(3600);
        let expires = now.timestamp() + lifetime;
        let nonce = Alphanumeric.sample_string(&mut rand::rng(), 16);
        let mac = hex(&self.token_mac(expires, &nonce));
        Ok(ListenerToken {
            access_token: SecretString::from(format!("{TOKEN_VERSION}.{expires}.{nonce}.{mac}")),
            expires_in: TOKEN_LIFETIME,
        })
    }

    /// Whether `token` is one we minted that has not expired at `now`.
    pub(crate) fn accepts(&self, token: &str, now: DateTime<Utc>) -> bool {
        let mut parts = token.split('.');
        let (Some(version), Some(expires), Some(nonce), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return false;
        };
        let Ok(expires) = expires.parse::<i64>() else {
            return false;
        };
        let expected = hex(&self.token_mac(expires, nonce));
        let authentic = same(mac, &expected);
        authentic && version == TOKEN_VERSION && expires > now.timestamp()
    }

    /// Checks a pushed event's sender: our unexpired bearer token, our client id in
    /// `x-api-key`, Track Alert's `User-Agent`.
    pub(crate) fn check_push(
        &self,
        headers: &http::HeaderMap,
        now: DateTime<Utc>,
    ) -> Result<(), NotificationError> {
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let token = header("authorization")
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(NotificationError::Unauthenticated(
                "the event has no bearer token",
            ))?;
        if !self.accepts(token, now) {
            return Err(NotificationError::Unauthenticated(
                "the event's bearer token is not one the listener issued, or it expired",
            ));
        }
        if !header("x-api-key").is_some_and(|id| same(id.trim(), &self.client_id)) {
            return Err(NotificationError::Unauthenticated(
                "the event's x-api-key is not the listener's client id",
            ));
        }
        if header("user-agent").map(str::trim) != Some(crate::track::alert::USER_AGENT) {
            return Err(NotificationError::Unauthenticated(
                "the event's User-Agent is not UPSPubSubTrackingService",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for ListenerCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenerCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish()
    }
}

fn mac_with(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of every length"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Compares two strings in time that depends only on their SHA-256 digests' length.
fn same(left: &str, right: &str) -> bool {
    let left = Sha256::digest(left.as_bytes());
    let right = Sha256::digest(right.as_bytes());
    left.iter()
        .zip(right.iter())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

/// `raw` read as one form-urlencoded value (`+` a space, `%XX` a byte).
fn form_decoded(raw: &str) -> String {
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// The client id and secret of `Authorization: Basic …`, split at the first colon.
fn basic_credentials(headers: &http::HeaderMap) -> Option<(String, String)> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const ID: &str = "listener-id";
    const SECRET: &str = "sentinel-listener-secret";

    fn credentials() -> ListenerCredentials {
        ListenerCredentials::new(ID, SecretString::from(SECRET))
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 4, 0, 0).unwrap()
    }

    fn basic(id: &str, secret: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        headers
    }

    fn minted() -> String {
        credentials()
            .token(&basic(ID, SECRET), b"grant_type=client_credentials", now())
            .unwrap()
            .access_token
            .expose_secret()
            .to_owned()
    }

    #[test]
    fn a_minted_token_is_accepted_for_an_hour() {
        let token = minted();
        assert!(credentials().accepts(&token, now()));
        assert!(credentials().accepts(&token, now() + chrono::Duration::seconds(3599)));
        assert!(!credentials().accepts(&token, now() + chrono::Duration::seconds(3600)));
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let token = minted();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = (parts[1].parse::<i64>().unwrap() + 86_400).to_string();
        assert!(!credentials().accepts(&parts.join("."), now()));
        let last = if token.ends_with('0') { '1' } else { '0' };
        let flipped = format!("{}{last}", &token[..token.len() - 1]);
        assert!(!credentials().accepts(&flipped, now()));
        assert!(!credentials().accepts("v1.9999999999.nonce.00", now()));
        assert!(!credentials().accepts("", now()));
    }

    #[test]
    fn a_token_minted_under_another_secret_is_refused() {
        let other = ListenerCredentials::new(ID, SecretString::from("another-secret"));
        assert!(!other.accepts(&minted(), now()));
    }

    #[test]
    fn wrong_basic_credentials_get_no_token() {
        for headers in [
            basic(ID, "wrong"),
            basic("other-id", SECRET),
            http::HeaderMap::new(),
        ] {
            let outcome = credentials().token(&headers, b"grant_type=client_credentials", now());
            assert!(
                matches!(outcome, Err(NotificationError::Unauthenticated(_))),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn form_encoded_basic_credentials_are_read_too() {
        let credentials = ListenerCredentials::new("id:with space", SecretString::from("s+cret"));
        let outcome = credentials.token(
            &basic("id%3Awith+space", "s%2Bcret"),
            b"grant_type=client_credentials",
            now(),
        );
        assert!(outcome.is_ok(), "{outcome:?}");
    }

    #[test]
    fn only_the_client_credentials_grant_is_answered() {
        for body in [
            &b"grant_type=authorization_code"[..],
            b"",
            b"grant_type=client_credentials&grant_type=client_credentials",
        ] {
            let outcome = credentials().token(&basic(ID, SECRET), body, now());
            assert!(
                matches!(outcome, Err(NotificationError::Malformed(_))),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn the_secret_is_never_printed() {
        let printed = format!("{:?}", credentials());
        assert!(!printed.contains(SECRET), "{printed}");
        let token = credentials()
            .token(&basic(ID, SECRET), b"grant_type=client_credentials", now())
            .unwrap();
        assert!(!format!("{token:?}").contains(token.access_token.expose_secret()));
    }
}
