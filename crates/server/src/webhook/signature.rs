//! The Standard Webhooks signature (API.md; the scheme of standardwebhooks.com): `v1,` and the
//! base64 of HMAC-SHA256, keyed with the secret's bytes, over `{webhook-id}.{webhook-timestamp}.{body}`.
//! During a rotation's grace period both secrets sign, their signatures space-separated, so a
//! receiver holding either verifies.

use accounts::webhook::WebhookSecret;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `webhook-signature` header's value for `body` sent as event `id` at `timestamp`
/// (Unix seconds), one `v1,…` per secret.
pub fn sign(secrets: &[WebhookSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| {
            // HMAC takes a key of any length.
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.bytes())
                .unwrap_or_else(|_| unreachable_hmac());
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            let digest = mac.finalize().into_bytes();
            format!(
                "v1,{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cold]
fn unreachable_hmac() -> ! {
    panic!("HMAC rejected a key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn secret(encoded: &str) -> WebhookSecret {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.strip_prefix("whsec_").unwrap())
            .unwrap();
        WebhookSecret::from_bytes(Zeroizing::new(bytes))
    }

    /// The example of the Standard Webhooks specification (its test vector).
    #[test]
    fn the_signature_matches_the_specification_s_example() {
        let key = secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&[key], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn two_secrets_sign_side_by_side() {
        let signed = sign(
            &[WebhookSecret::generate(), WebhookSecret::generate()],
            "evt_1",
            1,
            b"{}",
        );
        let parts: Vec<&str> = signed.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|part| part.starts_with("v1,")));
        assert_ne!(parts[0], parts[1]);
    }
}
