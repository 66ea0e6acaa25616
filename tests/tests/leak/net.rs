//! The leak test's net: the application's log captured at TRACE, a Postgres that logs every
//! statement with its parameters, every form a secret could be written in, and the check that
//! proves the net with negative controls before looking for the sentinels; and, for short
//! numeric secrets (PINs), the stricter look that does not find them by chance.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use backhaul_tests::PrivatePostgres;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

/// What the negative controls put where a leak would show.
const CONTROL_PARAMETER: &str = "Control+Parameter/P8sN3vQ1";
const CONTROL_LOGGED: &str = "Control+Logged/M2wC7hA4";

#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every form in which `secret` could be written down: raw, URL-encoded, hex, and the part of
/// its base64 (standard and URL-safe) that shows whatever surrounds it, at each of the three
/// alignments a secret can have inside a longer base64-encoded text.
fn encodings(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut forms = vec![secret.to_owned()];
    let percent: String = bytes
        .iter()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(*byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect();
    forms.push(percent.clone());
    forms.push(percent.to_lowercase());
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    forms.push(hex.to_uppercase());
    forms.push(hex);
    for shift in 0..3 {
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(bytes);
        // Whole 3-byte groups of the secret only: the first group is mixed with what precedes
        // it unless the secret starts a group, the last with what follows unless it ends one.
        let start = if shift == 0 { 0 } else { 4 };
        let end = (shifted.len() / 3) * 4;
        for engine in [STANDARD, URL_SAFE] {
            let encoded = engine.encode(&shifted);
            if end > start + 8 {
                forms.push(encoded[start..end].to_owned());
            }
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// The forms of `secret` found in `text`.
pub(crate) fn found(text: &str, secret: &str) -> Vec<String> {
    encodings(secret)
        .into_iter()
        .filter(|form| text.contains(form.as_str()))
        .collect()
}

/// The application's tracing at TRACE as JSON, captured for the whole process (the
/// subscriber is process-wide: every session of this binary writes to the same capture).
pub(crate) fn captured_logs() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            tracing_subscriber::fmt()
                .json()
                .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
                .with_writer(move || writer.clone())
                .try_init()
                .unwrap();
            captured
        })
        .clone()
}

/// A private Postgres logging every statement with its bound parameters.
pub(crate) async fn logging_postgres() -> PrivatePostgres {
    PrivatePostgres::start(&[
        "log_statement=all",
        "log_min_duration_statement=0",
        "log_parameter_max_length=-1",
        "log_parameter_max_length_on_error=-1",
        "log_connections=on",
        "log_min_error_statement=info",
    ])
    .await
}

/// Proves the net first — a bound parameter reaches the Postgres log and the dump, a value
/// logged base64-encoded at TRACE reaches the captured log — then looks for every form of
/// every sentinel in the `pg_dump`, the Postgres log, the app log and `answers` (the bodies
/// the session received). Returns the dump and the app log for the session's own checks.
pub(crate) async fn assert_no_sentinel_anywhere(
    owner: &sqlx::PgPool,
    postgres: &PrivatePostgres,
    captured: &Captured,
    sentinels: &[(&str, &str)],
    answers: &[String],
) -> (String, String) {
    sqlx::query("CREATE TABLE leak_control (value text)")
        .execute(owner)
        .await
        .unwrap();
    sqlx::query("INSERT INTO leak_control (value) VALUES ($1)")
        .bind(CONTROL_PARAMETER)
        .execute(owner)
        .await
        .unwrap();
    tracing::trace!(
        control = STANDARD.encode(format!("prefix:{CONTROL_LOGGED}")),
        "negative control"
    );

    let dump = postgres.dump().await;
    let postgres_log = postgres.log();
    let app_log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        dump.contains("COPY public.return_labels"),
        "the dump has the data"
    );
    assert!(
        postgres_log.contains("DETAIL:  parameters: $1 = "),
        "Postgres logs bound parameters"
    );
    assert!(!found(&postgres_log, CONTROL_PARAMETER).is_empty());
    assert!(!found(&dump, CONTROL_PARAMETER).is_empty());
    assert!(!found(&app_log, CONTROL_LOGGED).is_empty());
    assert!(
        app_log.contains("\"level\":\"TRACE\""),
        "TRACE lines are captured"
    );
    let answers = answers.join("\n");
    let mut leaks = Vec::new();
    for (what, secret) in sentinels {
        for (place, text) in [
            ("pg_dump", &dump),
            ("the Postgres log", &postgres_log),
            ("the app log", &app_log),
            ("an answer", &answers),
        ] {
            let forms = found(text, secret);
            if !forms.is_empty() {
                leaks.push(format!("{what} in {place} as {forms:?}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
    (dump, app_log)
}

/// Where a short numeric secret (a 6-digit PIN) stands in `text` on its own — not inside a
/// longer run of letters and digits, not the fraction of a timestamp (`…:26.482913Z`) — and
/// its hex forms anywhere. Six digits raw would be found by chance in the timestamps,
/// process ids and label images of a whole session; a leaked PIN is a value of its own
/// (`"pin":"482913"`, `secureCodePin=482913`, a column holding it). Each hit is shown with
/// what surrounds it.
pub(crate) fn found_code(text: &str, code: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut forms = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find(code) {
        let at = from + offset;
        let end = at + code.len();
        let before = at.checked_sub(1).map(|index| bytes[index]);
        let after = bytes.get(end).copied();
        let inside_a_word = before.is_some_and(|byte| byte.is_ascii_alphanumeric() || byte == b'.');
        if !inside_a_word && !after.is_some_and(|byte| byte.is_ascii_alphanumeric()) {
            let around = text
                .get(at.saturating_sub(24)..(end + 24).min(text.len()))
                .unwrap_or(code);
            forms.push(around.to_owned());
        }
        from = at + 1;
    }
    let hex: String = code.bytes().map(|byte| format!("{byte:02x}")).collect();
    for form in [hex.to_uppercase(), hex] {
        if text.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// Proves [`found_code`] on each code — it finds the code as a JSON value and as a form
/// field, and not as a timestamp's fraction or inside a longer number — then looks for every
/// code in every `(place, text)`.
pub(crate) fn assert_no_code_anywhere(texts: &[(&str, &str)], codes: &[(&str, &str)]) {
    let mut leaks = Vec::new();
    for (what, code) in codes {
        for planted in [
            format!("{{\"pin\":\"{code}\"}}"),
            format!("secureCodePin={code}&x=1"),
            format!("{{\"pin\": {code}}}"),
        ] {
            assert!(!found_code(&planted, code).is_empty(), "{planted}");
        }
        let chance = format!("2026-01-05T13:10:26.{code}Z 7{code} {code}0 x{code}");
        assert!(found_code(&chance, code).is_empty(), "{chance}");
        for (place, text) in texts {
            let forms = found_code(text, code);
            if !forms.is_empty() {
                leaks.push(format!("{what} in {place} as {forms:?}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}
