//! The `accountAuthToken`: an HS256 JWT signed with the simulator's random key, its claims
//! those of the file's example (`{"TypeOfJWT":"AddressValidated","AccountNumber":"173996144",
//! "DateTime":1800000,"exp":1667219701}`) plus a `jti` naming the session.
//!
//! Lifetime: the file gives none in words; the example's `DateTime` claim is `1800000`, read as
//! milliseconds: 30 minutes, the same for `exp`. A token past `exp` on the simulator clock is
//! `SESSION.EXPIRED.ERROR`; one that is not the simulator's (bad signature, bad shape) is
//! `UNAUTHORIZED.ACCESS.ERROR`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The session lifetime in milliseconds (the example's `DateTime`).
pub(crate) const SESSION_MILLISECONDS: i64 = 1_800_000;

/// What a valid token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Claims {
    pub(crate) account_number: String,
    pub(crate) session: String,
    pub(crate) expires_at: DateTime<Utc>,
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// Not a token this simulator signed.
    Forged,
    /// Past its `exp`.
    Expired,
}

fn signature(key: &[u8], signing_input: &str) -> Vec<u8> {
    // HMAC takes keys of any length; the error arm is unreachable.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(signing_input.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Signs a token for `account_number`'s session `session`, expiring at `expires_at`.
pub(crate) fn sign(
    key: &[u8],
    account_number: &str,
    session: &str,
    expires_at: DateTime<Utc>,
) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
    let claims = json!({
        "TypeOfJWT": "AddressValidated",
        "AccountNumber": account_number,
        "DateTime": SESSION_MILLISECONDS,
        "exp": expires_at.timestamp(),
        "jti": session,
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signed = URL_SAFE_NO_PAD.encode(signature(key, &signing_input));
    format!("{signing_input}.{signed}")
}

/// Checks a token's signature and expiry at `now`.
pub(crate) fn verify(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signed), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Forged);
    };
    let expected = signature(key, &format!("{header}.{payload}"));
    let given = URL_SAFE_NO_PAD
        .decode(signed)
        .map_err(|_| TokenError::Forged)?;
    // Constant-time comparison through the MAC crate would need the Mac again; the lengths
    // and bytes are compared in full here, which is enough for a simulator.
    if given.len() != expected.len()
        || given
            .iter()
            .zip(&expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
    {
        return Err(TokenError::Forged);
    }
    let claims: Value = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Forged)?;
    let account_number = claims["AccountNumber"].as_str().ok_or(TokenError::Forged)?;
    let session = claims["jti"].as_str().ok_or(TokenError::Forged)?;
    let expires_at = claims["exp"]
        .as_i64()
        .and_then(|exp| DateTime::<Utc>::from_timestamp(exp, 0))
        .ok_or(TokenError::Forged)?;
    if expires_at <= now {
        return Err(TokenError::Expired);
    }
    Ok(Claims {
        account_number: account_number.to_owned(),
        session: session.to_owned(),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let now = Utc::now();
        let expires = now + chrono::Duration::milliseconds(SESSION_MILLISECONDS);
        let token = sign(b"key", "740561073", "s1", expires);
        assert!(token.starts_with("eyJhbGciOiJIUzI1NiJ9."));
        let claims = verify(b"key", &token, now).unwrap();
        assert_eq!(claims.account_number, "740561073");
        assert_eq!(verify(b"key", &token, expires), Err(TokenError::Expired));
        assert_eq!(verify(b"other", &token, now), Err(TokenError::Forged));
        assert_eq!(verify(b"key", "a.b", now), Err(TokenError::Forged));
    }
}
