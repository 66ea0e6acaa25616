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
    // Comments of applied migrations name "Login with USPS" and USPS's prefill. sqlx checks an
    // applied migration's checksum, so they change only if the migrations are ever squashed.
    (
        "migrations/0003_oauth_states_and_carrier_tokens.sql",
        "-- Single-use OAuth states for \"Login with USPS\" (only a hash of the state is stored; the",
    ),
    (
        "migrations/0006_label_flow_and_onboarding.sql",
        "-- What the carrier offered when the merchant signed in (\"Login with USPS\"): the choices shown",
    ),
    (
        "migrations/0006_label_flow_and_onboarding.sql",
        "-- on the details form (CRIDs, MIDs, masked EPS accounts, permits). Never secret.",
    ),
    (
        "migrations/0007_console_sessions.sql",
        "-- The web console: sign-in sessions, and the \"Login with USPS\" sign-ins the console started.",
    ),
];

/// The ids of the carrier plugins in the workspace (a `crates/carrier-<id>` whose sources
/// implement `Carrier`; not a shared crate such as `carrier-http`), and the carriers [`WORDS`]
/// names: each a word of its own, and the prefix of its service codes.
fn carriers() -> Vec<String> {
    let crates = repository().join("crates");
    let mut ids: Vec<String> = std::fs::read_dir(&crates)
        .expect("the crates directory")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().to_string_lossy().into_owned();
            let id = name.strip_prefix("carrier-")?.to_owned();
            let mut sources = Vec::new();
            files(&crates.join(&name).join("src"), &mut sources);
            let plugin = sources.iter().any(|path| {
                std::fs::read_to_string(path).is_ok_and(|text| {
                    text.contains("impl Carrier for") || text.contains("impl carrier::Carrier for")
                })
            });
            plugin.then_some(id)
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
