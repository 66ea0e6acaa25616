//! No carrier is named outside its plugin: the server (its console above all) and the account
//! service know carriers only through `carrier::Carrier`. This scans `crates/server/src`,
//! `crates/accounts/src` and `migrations/` for carrier knowledge — the words `usps`, `ups`,
//! `fedex`, `crid`, `mid`, `eps`, `permit`, `webtools`, `shipper_number`, `account_number` and
//! the id of every carrier plugin in the workspace (`crates/carrier-<id>`) as whole words (any
//! non-alphanumeric character, `_` too, ends a word), case-insensitively, and service codes
//! with a carrier's prefix (`usps_…_return"`) — and fails naming `file:line` for each hit not on the
//! allow-list below. The allow-list holds what remains outside the console, each entry a file
//! and the exact (trimmed) text of its line; it is to shrink: an entry whose line no longer
//! hits fails the test too, so it is removed when its line is cleaned. `crates/server/src/
//! console/` has no entry and must stay so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// The trees scanned, from the repository's root.
const SCANNED: [&str; 3] = ["crates/server/src", "crates/accounts/src", "migrations"];

/// Words that name a carrier or one carrier's fields.
const WORDS: [&str; 10] = [
    "usps",
    "ups",
    "fedex",
    "crid",
    "mid",
    "eps",
    "permit",
    "webtools",
    "shipper_number",
    "account_number",
];

/// The lines outside the console that still hit, by file, each with why it is there. Remove an
/// entry when its line is cleaned (the test says which entries no longer hit).
const ALLOWED: &[(&str, &str)] = &[
    // the account service's docs name USPS's credentials modes.
    (
        "crates/accounts/src/account.rs",
        "/// Creates an account whose credentials the client supplies (`own_app`, `webtools` …).",
    ),
    // the onboarding docs describe USPS's prefill.
    (
        "crates/accounts/src/onboarding.rs",
        "//!   the choices offered (every CRID, MID, masked EPS account, permit) are kept in `onboarding`",
    ),
    // selection's docs and its unit tests name USPS (carrier_name, service codes, messages).
    (
        "crates/accounts/src/selection.rs",
        "/// The carrier's display name, for messages (`USPS`).",
    ),
    (
        "crates/accounts/src/selection.rs",
        "carrier_name: \"USPS\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "service: \"usps_priority_mail_express_return\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "(vec![], None, vec![], \"no USPS account is connected\"),",
    ),
    (
        "crates/accounts/src/selection.rs",
        "\"the only USPS account (a) is disabled\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "\"the only USPS account (a) is waiting for its account details\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "\"the only USPS account (a) is waiting to be re-authorized with the carrier\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "\"none of the 2 USPS accounts is active\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "\"no active USPS account offers usps_priority_mail_express_return (1 active account checked)\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "\"no USPS account is tagged location=west\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "\"no active USPS account tagged location=west offers usps_priority_mail_express_return\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "\"shipper account sa_missing does not exist for USPS\",",
    ),
    (
        "crates/accounts/src/selection.rs",
        "\"shipper account a (a) does not offer usps_priority_mail_express_return\",",
    ),
    // an error's doc names USPS pay-on-use labels.
    (
        "crates/server/src/error.rs",
        "/// The carrier cannot do this at all (void a USPS pay-on-use label).",
    ),
    // the purchase flow's docs name USPS; a unit test uses a USPS service code.
    (
        "crates/server/src/label.rs",
        "//!    (tenant, key): a resend after an ambiguous failure returns the same label (USPS v3",
    ),
    (
        "crates/server/src/label.rs",
        "//! again and may create a second label at USPS. That label is never returned to anyone, and",
    ),
    (
        "crates/server/src/label.rs",
        "//! USPS returns labels are pay-on-use (postage is charged only when a label is scanned), so an",
    ),
    (
        "crates/server/src/label.rs",
        "parse(br#\"{\"service\": \"usps_priority_mail_return\", \"parcel\": {\"weight_oz\": \"heavy\"}}\"#)",
    ),
    // the token-renewal docs name Login with USPS and USPS's token lifetimes.
    (
        "crates/server/src/oauth.rs",
        "//! Keeping the tokens of accounts connected by OAuth (\"Login with USPS\") alive.",
    ),
    (
        "crates/server/src/oauth.rs",
        "//!   the carrier says the credentials are due (USPS: five minutes before the access token",
    ),
    (
        "crates/server/src/oauth.rs",
        "//!   account whose credentials are due, so an idle account's refresh token (USPS: 7 days) is",
    ),
    // an error example names usps.
    (
        "crates/server/src/openapi/answer.rs",
        "message: \"usps did not confirm the label; retry with the same Idempotency-Key\",",
    ),
    // the OpenAPI tag's description names Login with USPS.
    (
        "crates/server/src/openapi/mod.rs",
        "(name = \"shipper accounts\", description = \"A tenant's carrier accounts, their credentials and Login with USPS\"),",
    ),
    // the OpenAPI document's descriptions and examples name USPS's modes, details and address rules.
    (
        "crates/server/src/openapi/schema.rs",
        "/// `platform_app`, `own_app` or `webtools` (USPS).",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// Write-only credentials (USPS: `{\"mode\": \"own_app\", \"client_id\", \"client_secret\"}`,",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// `{\"mode\": \"webtools\", \"user_id\", \"password\"}`, or `{\"mode\": \"platform_app\"}` with Login",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// with USPS). Every value is a string.",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// The carrier's id (`usps`).",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// Carrier-specific details, secrets masked (USPS: `api`, `crid`, `mid`, `manifest_mid`,",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// `returns_mid`, `account_type`, `eps_account_number` (masked), `permit_number`,",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// `permit_zip`, `return_address`).",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// What the carrier offered at sign-in (accounts connected by Login with USPS).",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// The state or province code: for the US the two-letter USPS state or territory code.",
    ),
    (
        "crates/server/src/openapi/schema.rs",
        "/// Whether the parcel can go through USPS sorting machines (default `true`).",
    ),
    // a unit test's query string names usps.
    (
        "crates/server/src/plain_url.rs",
        "Some(\"carrier=usps&account_id=%00\")",
    ),
    // POST /v1/shipper-accounts defaults the carrier to usps and documents USPS's details.
    (
        "crates/server/src/routes/accounts.rs",
        "/// The carrier's id; defaults to `usps`.",
    ),
    (
        "crates/server/src/routes/accounts.rs",
        "#[schema(pattern = r\"^[a-z][a-z0-9_]{0,31}$\", example = \"usps\")]",
    ),
    (
        "crates/server/src/routes/accounts.rs",
        "/// Carrier-specific details (USPS: `api` (`v3` or `webtools`), `crid`, `mid`,",
    ),
    (
        "crates/server/src/routes/accounts.rs",
        "/// `manifest_mid`, `returns_mid`, `account_type` (`EPS` or `PERMIT`), `eps_account_number`",
    ),
    (
        "crates/server/src/routes/accounts.rs",
        "/// or `permit_number` + `permit_zip`, `return_address`).",
    ),
    (
        "crates/server/src/routes/accounts.rs",
        "/// `webtools`) and are never shown again; `platform_app` accounts are connected with Login with",
    ),
    (
        "crates/server/src/routes/accounts.rs",
        "/// USPS instead. The account is `active` when its details are complete.",
    ),
    (
        "crates/server/src/routes/accounts.rs",
        "carrier: input.carrier.unwrap_or_else(|| \"usps\".to_owned()),",
    ),
    // a filter's doc example names usps.
    (
        "crates/server/src/routes/admin.rs",
        "/// Only this carrier's accounts (e.g. `usps`).",
    ),
    // the route table's comment names Login with USPS.
    (
        "crates/server/src/routes/mod.rs",
        "// Login with USPS (OAuth onboarding): the tenant's connect call and the browser's",
    ),
    // the API's OAuth routes: docs and examples name USPS, the callback page names CRID/EPS/permit, its unit tests USPS.
    (
        "crates/server/src/routes/oauth.rs",
        "//! \"Login with USPS\" (API.md; the flow of AfterShip's \"Connect USPS\"):",
    ),
    (
        "crates/server/src/routes/oauth.rs",
        "/// Start \"Login with USPS\": a single-use sign-in for the merchant's browser.",
    ),
    (
        "crates/server/src/routes/oauth.rs",
        "params((\"carrier\" = String, Path, description = \"A carrier connected by signing in (`usps`)\", example = \"usps\")),",
    ),
    (
        "crates/server/src/routes/oauth.rs",
        "/// it (`POST /v1/shipper-accounts/{carrier}/connect`, and the console's \"Login with USPS\").",
    ),
    (
        "crates/server/src/routes/oauth.rs",
        "params((\"carrier\" = String, Path, description = \"The carrier signed in with (`usps`)\", example = \"usps\"),",
    ),
    (
        "crates/server/src/routes/oauth.rs",
        "<p>Next: check the pre-filled details (CRID, MIDs, account type, EPS account or permit) \\",
    ),
    (
        "crates/server/src/routes/oauth.rs",
        "let response = connected_page(\"USPS\", \"sa_1\", \"<b>East</b>\");",
    ),
    (
        "crates/server/src/routes/oauth.rs",
        "assert!(html.contains(\"USPS connected — finish your account details\"));",
    ),
    // NOT carrier knowledge: a connection semaphore's permit, and "mid-request" (stays).
    (
        "crates/server/src/serve.rs",
        "let permit = tokio::select! {",
    ),
    (
        "crates/server/src/serve.rs",
        "permit = permits.clone().acquire_owned() => match permit {",
    ),
    ("crates/server/src/serve.rs", "Ok(permit) => permit,"),
    ("crates/server/src/serve.rs", "drop(permit);"),
    (
        "crates/server/src/serve.rs",
        "/// Counts a request as in flight until dropped (also when the client goes away mid-request).",
    ),
    // a migration's comment names Login with USPS (applied migrations are not edited; stays unless squashed).
    (
        "migrations/0003_oauth_states_and_carrier_tokens.sql",
        "-- Single-use OAuth states for \"Login with USPS\" (only a hash of the state is stored; the",
    ),
    // a migration's comments name Login with USPS and USPS's prefill (applied migrations are not edited; stays unless squashed).
    (
        "migrations/0006_label_flow_and_onboarding.sql",
        "-- What the carrier offered when the merchant signed in (\"Login with USPS\"): the choices shown",
    ),
    (
        "migrations/0006_label_flow_and_onboarding.sql",
        "-- on the details form (CRIDs, MIDs, masked EPS accounts, permits). Never secret.",
    ),
    // a migration's comment names Login with USPS (applied migrations are not edited; stays unless squashed).
    (
        "migrations/0007_console_sessions.sql",
        "-- The web console: sign-in sessions, and the \"Login with USPS\" sign-ins the console started.",
    ),
];

/// The ids of the carrier plugins in the workspace (`crates/carrier-<id>`), and the carriers
/// [`WORDS`] names: a word of its own, and the prefix of its service codes.
fn carriers() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(repository().join("crates"))
        .expect("the crates directory")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_prefix("carrier-").map(str::to_owned)
        })
        .collect();
    ids.extend(["usps", "ups", "fedex"].map(str::to_owned));
    ids.sort();
    ids.dedup();
    ids
}

/// What carrier knowledge `line` holds: each of [`WORDS`] and of `carriers` found as a whole
/// word, and each service code (`…_return"`) that starts with one of `carriers`.
fn hits(carriers: &[String], line: &str) -> Vec<String> {
    let lower = line.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let boundary = |at: Option<&u8>| at.is_none_or(|byte| !byte.is_ascii_alphanumeric());
    let mut words: Vec<&str> = WORDS.to_vec();
    words.extend(
        carriers
            .iter()
            .map(String::as_str)
            .filter(|id| !WORDS.contains(id)),
    );
    let mut found = Vec::new();
    for word in words {
        for (at, _) in lower.match_indices(word) {
            let before = at.checked_sub(1).and_then(|index| bytes.get(index));
            let after = bytes.get(at + word.len());
            if boundary(before) && boundary(after) {
                found.push(word.to_owned());
            }
        }
    }
    for (at, _) in lower.match_indices("_return\"") {
        let start = lower[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |index| index + 1);
        let code = &lower[start..at];
        let prefixed = carriers
            .iter()
            .any(|id| code.starts_with(&format!("{id}_")));
        if prefixed {
            found.push(format!("{code}_return\""));
        }
    }
    found
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package is in the repository")
        .to_path_buf()
}

fn files(dir: &Path, into: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, into);
        } else {
            into.push(path);
        }
    }
}

/// Every hit in the scanned trees: (file from the root, line number, trimmed text, words).
fn scan() -> Vec<(String, usize, String, Vec<String>)> {
    let root = repository();
    let carriers = carriers();
    let mut paths = Vec::new();
    for tree in SCANNED {
        files(&root.join(tree), &mut paths);
    }
    let mut found = Vec::new();
    for path in paths {
        // Binary files hold no source text.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let file = path
            .strip_prefix(&root)
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        for (index, line) in text.lines().enumerate() {
            let words = hits(&carriers, line);
            if !words.is_empty() {
                found.push((file.clone(), index + 1, line.trim().to_owned(), words));
            }
        }
    }
    found
}

#[test]
fn the_scan_finds_carrier_words_and_service_codes_and_nothing_else() {
    let carriers = carriers();
    assert!(carriers.contains(&"usps".to_owned()), "{carriers:?}");
    let with_dhl: Vec<String> = carriers.iter().cloned().chain(["dhl".to_owned()]).collect();
    let hits = |line: &str| hits(&with_dhl, line);
    assert_eq!(hits("let carrier = \"usps\";"), ["usps"]);
    assert_eq!(hits("Login with UPS"), ["ups"]);
    assert_eq!(
        hits("details.eps_account_number"),
        ["eps", "account_number"]
    );
    assert_eq!(hits("(\"mid\", \"MID\")"), ["mid", "mid"]);
    assert_eq!(hits("CRID: 2 to 18 digits"), ["crid"]);
    assert_eq!(hits("\"fedex_home\""), ["fedex"]);
    assert_eq!(hits("a PERMIT account"), ["permit"]);
    assert_eq!(
        hits("service: \"usps_priority_mail_return\""),
        ["usps", "usps_priority_mail_return\""]
    );
    assert_eq!(
        hits("service: \"dhl_express_return\""),
        ["dhl", "dhl_express_return\""]
    );
    for clean in [
        "the groups and setups it keeps in steps",
        "permitted, midnight, middle, crids-less",
        "fn return_label() -> \"returned\"",
        "\"_return\" alone",
        "an example carrier's \"acme_ground_return\"",
    ] {
        assert!(hits(clean).is_empty(), "{clean}: {:?}", hits(clean));
    }
}

#[test]
fn no_carrier_is_named_outside_its_plugin_but_the_allow_listed_lines() {
    let found = scan();
    let unexpected: Vec<String> = found
        .iter()
        .filter(|(file, _, text, _)| {
            !ALLOWED
                .iter()
                .any(|(allowed, line)| allowed == file && line == text)
        })
        .map(|(file, number, text, words)| format!("{file}:{number}: {words:?}: {text}"))
        .collect();
    let stale: Vec<String> = ALLOWED
        .iter()
        .filter(|(allowed, line)| {
            !found
                .iter()
                .any(|(file, _, text, _)| file == allowed && text == line)
        })
        .map(|(file, line)| format!("{file}: {line}"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "carrier knowledge outside the carrier plugins (move it into the plugin, or, outside \
         crates/server/src/console/, allow-list it with the reason):\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "allow-list entries whose line no longer names a carrier (remove them):\n{}",
        stale.join("\n")
    );
    assert!(
        found
            .iter()
            .all(|(file, ..)| !file.starts_with("crates/server/src/console/")),
        "the console names no carrier"
    );
}
