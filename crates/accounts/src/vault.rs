//! Envelope encryption of stored credentials.
//!
//! Every shipper account has its own random 256-bit data key. Credentials (and cached carrier
//! tokens) are sealed with it using AES-256-GCM; the data key itself is stored wrapped
//! (AES-256-GCM again) under the primary master key from configuration
//! (`BACKHAUL__VAULT__MASTER_KEYS`), whose id is stored beside it. Associated data binds each
//! ciphertext to its tenant, account and purpose, so a ciphertext copied into another row, another
//! tenant or another purpose fails to open.
//!
//! At-rest format (versioned, after svix): `0x01 || nonce (12 bytes) || ciphertext+tag`.
//! Rotation re-wraps data keys under the new primary master key; the sealed credentials are not
//! touched, and old master keys keep opening what they wrapped until rotation has finished.
//!
//! Fingerprints are HMAC-SHA-256 under a key derived from the master keys' *fingerprint secret*
//! (see [`MasterKeyring::fingerprint`]), so they reveal nothing about the secret and stay stable
//! across rotations.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// The version byte of the at-rest format written today.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// What went wrong opening or configuring the vault. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("vault.master_keys: {0}")]
    Config(String),
    #[error("master key {0:?} is not configured")]
    UnknownMasterKey(String),
    /// Wrong key, tampered bytes, or a ciphertext moved to another row, tenant or purpose.
    #[error("ciphertext does not open under this key and context")]
    Refused,
    #[error("unsupported at-rest format version {0}")]
    UnsupportedFormat(u8),
}

/// One configured master key. `Debug` shows only its id.
pub struct MasterKey {
    id: String,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl MasterKey {
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.key[..]))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// The configured master keys; the first is primary (used for new wraps).
#[derive(Debug)]
pub struct MasterKeyring {
    keys: Vec<MasterKey>,
    fingerprint_key: Zeroizing<[u8; KEY_LEN]>,
}

/// Development master keys that production must refuse (they are in this repository).
pub const DEVELOPMENT_KEY_IDS: &[&str] = &["dev"];

impl MasterKeyring {
    /// Parses `id:base64-32-bytes[,id:base64-32-bytes…]`. Ids are 1–32 characters of
    /// `[A-Za-z0-9_-]`, unique.
    pub fn parse(spec: &SecretString) -> Result<Self, VaultError> {
        let mut keys: Vec<MasterKey> = Vec::new();
        for (index, entry) in spec.expose_secret().split(',').enumerate() {
            let entry = entry.trim();
            let position = index + 1;
            let (id, encoded) = entry.split_once(':').ok_or_else(|| {
                VaultError::Config(format!("entry {position} must be id:base64-key"))
            })?;
            let id_valid = !id.is_empty()
                && id.len() <= 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id_valid {
                return Err(VaultError::Config(format!(
                    "entry {position}: the key id must be 1-32 letters, digits, - or _"
                )));
            }
            if keys.iter().any(|key| key.id == id) {
                return Err(VaultError::Config(format!("key id {id:?} appears twice")));
            }
            let mut decoded = Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|_| VaultError::Config(format!("key {id:?} is not valid base64")))?,
            );
            if decoded.len() != KEY_LEN {
                let length = decoded.len();
                decoded.zeroize();
                return Err(VaultError::Config(format!(
                    "key {id:?} must be 32 bytes, got {length}"
                )));
            }
            let mut key = Zeroizing::new([0u8; KEY_LEN]);
            key.copy_from_slice(&decoded);
            keys.push(MasterKey {
                id: id.to_owned(),
                key,
            });
        }
        if keys.is_empty() {
            return Err(VaultError::Config("no master key configured".into()));
        }
        let fingerprint_key = derive_fingerprint_key(&keys);
        Ok(Self {
            keys,
            fingerprint_key,
        })
    }

    pub fn primary(&self) -> &MasterKey {
        // `parse` refuses an empty list.
        &self.keys[0]
    }

    pub fn get(&self, id: &str) -> Result<&MasterKey, VaultError> {
        self.keys
            .iter()
            .find(|key| key.id == id)
            .ok_or_else(|| VaultError::UnknownMasterKey(id.to_owned()))
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|key| key.id.as_str())
    }

    /// Whether any configured key is a development key (production refuses to start then).
    pub fn has_development_key(&self) -> bool {
        self.keys
            .iter()
            .any(|key| DEVELOPMENT_KEY_IDS.contains(&key.id.as_str()))
    }

    /// A keyed fingerprint of a secret: `sha256:` + 16 hex bytes of HMAC-SHA-256.
    pub fn fingerprint(&self, secret: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.fingerprint_key[..])
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(secret);
        let digest = mac.finalize().into_bytes();
        format!("sha256:{}", hex::encode(&digest[..16]))
    }

    /// A secret derived from `input` for one `domain` (HMAC-SHA-256 under the fingerprint key,
    /// domain-separated): what only this deployment can compute from a public value, so it
    /// need not be stored.
    pub fn derive(&self, domain: &[u8], input: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.fingerprint_key[..])
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(domain);
        mac.update(&[0]);
        mac.update(input);
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        out.copy_from_slice(&mac.finalize().into_bytes());
        out
    }

    /// Wraps a fresh data key under the primary master key, bound to `context`.
    pub fn new_data_key(
        &self,
        context: &KeyContext<'_>,
    ) -> Result<(DataKey, WrappedKey), VaultError> {
        let key = Aes256Gcm::generate_key(OsRng);
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(key.as_slice());
        let data_key = DataKey { key: bytes };
        let wrapped = self.wrap(&data_key, context)?;
        Ok((data_key, wrapped))
    }

    /// Opens a wrapped data key with the master key it names.
    pub fn unwrap_data_key(
        &self,
        wrapped: &WrappedKey,
        context: &KeyContext<'_>,
    ) -> Result<DataKey, VaultError> {
        let master = self.get(&wrapped.master_key_id)?;
        let aad = context.wrap_aad(&wrapped.master_key_id);
        let plain = open(&master.cipher(), &wrapped.ciphertext, &aad)?;
        if plain.len() != KEY_LEN {
            return Err(VaultError::Refused);
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&plain);
        Ok(DataKey { key })
    }

    /// Re-wraps `wrapped` under the primary master key (rotation). A key already under the
    /// primary is returned unchanged.
    pub fn rewrap(
        &self,
        wrapped: &WrappedKey,
        context: &KeyContext<'_>,
    ) -> Result<WrappedKey, VaultError> {
        if wrapped.master_key_id == self.primary().id {
            return Ok(wrapped.clone());
        }
        let data_key = self.unwrap_data_key(wrapped, context)?;
        self.wrap(&data_key, context)
    }

    fn wrap(&self, data_key: &DataKey, context: &KeyContext<'_>) -> Result<WrappedKey, VaultError> {
        let primary = self.primary();
        let aad = context.wrap_aad(&primary.id);
        Ok(WrappedKey {
            master_key_id: primary.id.clone(),
            ciphertext: seal(&primary.cipher(), &data_key.key[..], &aad)?,
        })
    }
}

#[cold]
fn unreachable_hmac() -> ! {
    // HMAC accepts keys of any length; this cannot happen.
    panic!("HMAC rejected a 32-byte key")
}

/// The fingerprint key is derived from the *oldest* configured master key's bytes (the last in
/// the list), so fingerprints stay stable while a new primary is rotated in at the front.
fn derive_fingerprint_key(keys: &[MasterKey]) -> Zeroizing<[u8; KEY_LEN]> {
    let oldest = &keys[keys.len() - 1];
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&oldest.key[..])
        .unwrap_or_else(|_| unreachable_hmac());
    mac.update(b"backhaul/fingerprint/v1");
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// Who a data key or ciphertext belongs to; becomes AES-GCM associated data.
#[derive(Debug, Clone, Copy)]
pub struct KeyContext<'a> {
    pub tenant_id: &'a str,
    pub account_id: &'a str,
}

impl KeyContext<'_> {
    fn wrap_aad(&self, master_key_id: &str) -> Vec<u8> {
        format!(
            "backhaul/data-key/v1\0{}\0{}\0{}",
            self.tenant_id, self.account_id, master_key_id
        )
        .into_bytes()
    }

    fn seal_aad(&self, purpose: Purpose) -> Vec<u8> {
        format!(
            "backhaul/sealed/v1\0{}\0{}\0{}",
            self.tenant_id,
            self.account_id,
            purpose.as_str()
        )
        .into_bytes()
    }
}

/// What a sealed value is for; part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Credentials,
    CarrierToken,
    /// A webhook endpoint's signing secret (its key context names the endpoint).
    WebhookSecret,
    /// The secret a carrier signs an account's tracking notifications with.
    SubscriptionSecret,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Credentials => "credentials",
            Purpose::CarrierToken => "carrier-token",
            Purpose::WebhookSecret => "webhook-secret",
            Purpose::SubscriptionSecret => "subscription-secret",
        }
    }
}

/// A data key wrapped under a master key, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub master_key_id: String,
    pub ciphertext: Vec<u8>,
}

/// An account's unwrapped data key. Zeroized on drop; `Debug` redacts it.
pub struct DataKey {
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

impl DataKey {
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.key[..]))
    }

    /// Seals `plaintext` for `context` and `purpose`.
    pub fn seal(
        &self,
        context: &KeyContext<'_>,
        purpose: Purpose,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        seal(&self.cipher(), plaintext, &context.seal_aad(purpose))
    }

    /// Opens what [`DataKey::seal`] sealed for the same context and purpose.
    pub fn open(
        &self,
        context: &KeyContext<'_>,
        purpose: Purpose,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        open(&self.cipher(), sealed, &context.seal_aad(purpose))
    }
}

fn seal(cipher: &Aes256Gcm, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    let nonce = Aes256Gcm::generate_nonce(OsRng);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| VaultError::Refused)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
    out.push(FORMAT_V1);
    out.extend_from_slice(nonce.as_slice());
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

fn open(cipher: &Aes256Gcm, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let (&version, rest) = sealed.split_first().ok_or(VaultError::Refused)?;
    if version != FORMAT_V1 {
        return Err(VaultError::UnsupportedFormat(version));
    }
    if rest.len() < NONCE_LEN {
        return Err(VaultError::Refused);
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_b64(byte: u8) -> String {
        base64::engine::general_purpose::STANDARD.encode([byte; KEY_LEN])
    }

    fn ring(spec: &str) -> MasterKeyring {
        MasterKeyring::parse(&SecretString::from(spec.to_owned())).unwrap()
    }

    const ACME: KeyContext<'static> = KeyContext {
        tenant_id: "ten_acme",
        account_id: "sa_1",
    };

    #[test]
    fn sealed_credentials_round_trip() {
        let ring = ring(&format!("k1:{}", key_b64(1)));
        let (key, wrapped) = ring.new_data_key(&ACME).unwrap();
        let sealed = key.seal(&ACME, Purpose::Credentials, b"secret").unwrap();
        let reopened = ring.unwrap_data_key(&wrapped, &ACME).unwrap();
        assert_eq!(
            &reopened.open(&ACME, Purpose::Credentials, &sealed).unwrap()[..],
            b"secret"
        );
    }

    #[test]
    fn a_flipped_bit_is_refused() {
        let ring = ring(&format!("k1:{}", key_b64(1)));
        let (key, _) = ring.new_data_key(&ACME).unwrap();
        let mut sealed = key.seal(&ACME, Purpose::Credentials, b"secret").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 0x01;
        assert!(matches!(
            key.open(&ACME, Purpose::Credentials, &sealed),
            Err(VaultError::Refused)
        ));
    }

    #[test]
    fn a_ciphertext_moved_to_another_account_tenant_or_purpose_is_refused() {
        let ring = ring(&format!("k1:{}", key_b64(1)));
        let (key, wrapped) = ring.new_data_key(&ACME).unwrap();
        let sealed = key.seal(&ACME, Purpose::Credentials, b"secret").unwrap();
        let other_account = KeyContext {
            account_id: "sa_2",
            ..ACME
        };
        let other_tenant = KeyContext {
            tenant_id: "ten_evil",
            ..ACME
        };
        for context in [other_account, other_tenant] {
            assert!(key.open(&context, Purpose::Credentials, &sealed).is_err());
            assert!(ring.unwrap_data_key(&wrapped, &context).is_err());
        }
        assert!(key.open(&ACME, Purpose::CarrierToken, &sealed).is_err());
    }

    #[test]
    fn a_wrong_master_key_is_refused() {
        let (_, wrapped) = ring(&format!("k1:{}", key_b64(1)))
            .new_data_key(&ACME)
            .unwrap();
        let impostor = ring(&format!("k1:{}", key_b64(2)));
        assert!(matches!(
            impostor.unwrap_data_key(&wrapped, &ACME),
            Err(VaultError::Refused)
        ));
    }

    #[test]
    fn rotation_rewraps_under_the_new_primary_and_old_keys_still_open() {
        let old = ring(&format!("k1:{}", key_b64(1)));
        let (key, wrapped) = old.new_data_key(&ACME).unwrap();
        let sealed = key.seal(&ACME, Purpose::Credentials, b"secret").unwrap();
        let rotated = ring(&format!("k2:{},k1:{}", key_b64(2), key_b64(1)));
        // Before re-wrapping, the old wrap still opens.
        assert!(rotated.unwrap_data_key(&wrapped, &ACME).is_ok());
        let rewrapped = rotated.rewrap(&wrapped, &ACME).unwrap();
        assert_eq!(rewrapped.master_key_id, "k2");
        let reopened = ring(&format!("k2:{}", key_b64(2)))
            .unwrap_data_key(&rewrapped, &ACME)
            .unwrap();
        assert_eq!(
            &reopened.open(&ACME, Purpose::Credentials, &sealed).unwrap()[..],
            b"secret"
        );
    }

    #[test]
    fn fingerprints_are_keyed_and_stable_across_rotation() {
        let old = ring(&format!("k1:{}", key_b64(1)));
        let rotated = ring(&format!("k2:{},k1:{}", key_b64(2), key_b64(1)));
        let other = ring(&format!("k1:{}", key_b64(3)));
        assert_eq!(old.fingerprint(b"s"), rotated.fingerprint(b"s"));
        assert_ne!(old.fingerprint(b"s"), other.fingerprint(b"s"));
        assert!(old.fingerprint(b"s").starts_with("sha256:"));
    }

    #[test]
    fn bad_key_specs_name_the_problem_without_the_key() {
        for (spec, expected) in [
            ("", "must be id:base64-key"),
            ("k1:notbase64!", "not valid base64"),
            (
                &format!(
                    "k1:{}",
                    base64::engine::general_purpose::STANDARD.encode([1u8; 16])
                ),
                "must be 32 bytes",
            ),
            (&format!("k1:{0},k1:{0}", key_b64(1)), "appears twice"),
        ] {
            let error = MasterKeyring::parse(&SecretString::from(spec.to_owned())).unwrap_err();
            assert!(error.to_string().contains(expected), "{spec}: {error}");
        }
    }

    #[test]
    fn debug_output_never_shows_key_material() {
        let ring = ring(&format!("k1:{}", key_b64(7)));
        let (key, _) = ring.new_data_key(&ACME).unwrap();
        let printed = format!("{ring:?} {key:?}");
        assert!(!printed.contains(&key_b64(7)));
        assert!(!printed.contains("7, 7, 7"));
    }
}
