#![allow(clippy::expect_used)]

//! The vault's per-request cryptography: what a label purchase pays to open an account's
//! credentials (unwrap the data key under the master key, open the sealed JSON, read it), what
//! saving an account pays to seal them, and what a master-key rotation pays per account (the
//! data key re-wrapped; the credentials are not touched). Run with
//! `cargo bench -p accounts --bench vault`.

use std::hint::black_box;

use accounts::MasterKeyring;
use accounts::vault::{KeyContext, Purpose, WrappedKey};
use carrier::Credentials;
use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::SecretString;

const CONTEXT: KeyContext<'static> = KeyContext {
    tenant_id: "ten_01JD8Z3Q4RZ2B0M1T5F6W7X8Y9",
    account_id: "acc_01JD8Z3Q4RZ2B0M1T5F6W7X8Y9",
};

/// Two master keys of 32 bytes each: `new` (primary) and `old`.
fn parse_keyring(spec: &str) -> MasterKeyring {
    MasterKeyring::parse(&SecretString::from(spec.to_owned())).expect("the bench keys parse")
}

const OLD: &str = "old:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const BOTH: &str = "new:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=,\
                    old:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// An `own_app` v3 account's credentials, the usual size.
fn credentials() -> Credentials {
    Credentials::new("own_app")
        .with_public("client_id", "a3f1c2e4b5d6a7f8e9d0c1b2a3f4e5d6")
        .with_secret(
            "client_secret",
            SecretString::from("sk_9f8e7d6c5b4a39281706f5e4d3c2b1a0".to_owned()),
        )
}

/// What saving a new account does: a fresh data key wrapped under the primary master key, and
/// the credentials sealed under it.
fn seal_new(keyring: &MasterKeyring, credentials: &Credentials) -> (WrappedKey, Vec<u8>) {
    let (data_key, wrapped) = keyring
        .new_data_key(&CONTEXT)
        .expect("a data key is wrapped");
    let sealed = data_key
        .seal(
            &CONTEXT,
            Purpose::Credentials,
            &credentials.to_sealed_json(),
        )
        .expect("the credentials seal");
    (wrapped, sealed)
}

fn vault(c: &mut Criterion) {
    let keyring = parse_keyring(OLD);
    let credentials = credentials();
    let (wrapped, sealed) = seal_new(&keyring, &credentials);

    c.bench_function(
        "vault/seal new account credentials (data key + seal)",
        |b| b.iter(|| black_box(seal_new(black_box(&keyring), &credentials))),
    );

    c.bench_function(
        "vault/open credentials for a label (unwrap + open + read)",
        |b| {
            b.iter(|| {
                let data_key = keyring
                    .unwrap_data_key(black_box(&wrapped), &CONTEXT)
                    .expect("the data key unwraps");
                let plain = data_key
                    .open(&CONTEXT, Purpose::Credentials, black_box(&sealed))
                    .expect("the credentials open");
                black_box(Credentials::from_sealed_json(&plain).expect("the credentials read"))
            });
        },
    );

    let rotated = parse_keyring(BOTH);
    c.bench_function("vault/rewrap a data key under a new master key", |b| {
        b.iter(|| {
            black_box(
                rotated
                    .rewrap(black_box(&wrapped), &CONTEXT)
                    .expect("the data key rewraps"),
            )
        });
    });

    c.bench_function("vault/fingerprint a secret (HMAC-SHA-256)", |b| {
        b.iter(|| {
            black_box(keyring.fingerprint(black_box(b"sk_9f8e7d6c5b4a39281706f5e4d3c2b1a0")))
        });
    });
}

criterion_group!(benches, vault);
criterion_main!(benches);
