use std::path::PathBuf;

use super::*;

fn repository_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

fn variables(pairs: &[(&str, &str)]) -> config::Map<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

/// A production key of the tests: 32 bytes of 7, base64.
const PRODUCTION_KEYS: &str = "prod1:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

/// Makes `directory` a configuration directory: the repository's base file and `files`
/// (name, contents) beside it.
fn write_config(directory: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(directory).unwrap();
    let base = std::fs::read_to_string(repository_config().join("base.toml")).unwrap();
    std::fs::write(directory.join("base.toml"), base).unwrap();
    for (name, contents) in files {
        std::fs::write(directory.join(name), contents).unwrap();
    }
}

#[test]
fn the_environment_file_overrides_the_base_file() {
    let directory = tempfile::tempdir().unwrap();
    write_config(
        directory.path(),
        &[(
            "production.toml",
            "[log]\nformat = \"json\"\n[usps_sim]\nlisten = \"127.0.0.1:9000\"\n",
        )],
    );
    let settings = Settings::load_from(
        &ConfigFiles::Given(directory.path().to_owned()),
        Environment::Production,
        variables(&[("BACKHAUL__VAULT__MASTER_KEYS", PRODUCTION_KEYS)]),
    )
    .unwrap();
    assert_eq!(settings.log.format, LogFormat::Json);
    assert_eq!(settings.usps_sim.listen.port(), 9000);
}

#[test]
fn the_repository_and_the_built_in_files_load_for_every_environment() {
    let files = [
        ConfigFiles::Given(repository_config()),
        ConfigFiles::WorkingDirectory(repository_config()),
        ConfigFiles::BuiltIn,
    ];
    for files in &files {
        for environment in [
            Environment::Local,
            Environment::Test,
            Environment::Production,
        ] {
            Settings::load_from(
                files,
                environment,
                variables(&[("BACKHAUL__VAULT__MASTER_KEYS", PRODUCTION_KEYS)]),
            )
            .unwrap_or_else(|error| panic!("{files}, {environment:?}: {error:#}"));
        }
    }
}

#[test]
fn the_built_in_base_has_every_default() {
    let settings =
        Settings::load_from(&ConfigFiles::BuiltIn, Environment::Test, variables(&[])).unwrap();
    assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(settings.usps.base_url, carrier_usps::PRODUCTION_URL);
    assert_eq!(settings.usps.webtools_url, carrier_usps::WEBTOOLS_URL);
    assert_eq!(settings.database.max_connections, 10);
    assert_eq!(settings.log.format, LogFormat::Pretty);
    assert_eq!(settings.usps_sim.listen.to_string(), "127.0.0.1:8081");
    assert!(settings.database.url.is_none());
    assert!(settings.vault.master_keys.is_none());
    assert!(settings.usps.platform_app().is_none());
}

#[test]
fn outside_the_repository_local_has_the_development_key_and_the_simulator() {
    let empty = tempfile::tempdir().unwrap();
    let settings = Settings::load_in(empty.path(), variables(&[])).unwrap();
    assert_eq!(settings.environment, Environment::Local);
    assert!(settings.vault.keyring().unwrap().has_development_key());
    assert_eq!(settings.usps.base_url, "http://127.0.0.1:8081");
    assert_eq!(
        settings.usps.webtools_url,
        "http://127.0.0.1:8081/ShippingAPI.dll"
    );
    assert!(settings.usps.platform_app().is_some());
}

#[test]
fn the_working_directorys_config_is_read_when_there_is_one() {
    let working = tempfile::tempdir().unwrap();
    write_config(
        &working.path().join("config"),
        &[("test.toml", "[server]\nlisten = \"127.0.0.1:7001\"\n")],
    );
    let settings =
        Settings::load_in(working.path(), variables(&[("BACKHAUL_ENV", "test")])).unwrap();
    assert_eq!(settings.server.listen.port(), 7001);
}

#[test]
fn a_given_config_dir_wins_over_the_working_directorys_and_the_built_in_files() {
    let working = tempfile::tempdir().unwrap();
    write_config(
        &working.path().join("config"),
        &[("local.toml", "[server]\nlisten = \"127.0.0.1:7001\"\n")],
    );
    let given = tempfile::tempdir().unwrap();
    write_config(
        given.path(),
        &[("local.toml", "[server]\nlisten = \"127.0.0.1:7002\"\n")],
    );
    let settings = Settings::load_in(
        working.path(),
        variables(&[("BACKHAUL_CONFIG_DIR", given.path().to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(settings.server.listen.port(), 7002);
    assert!(
        settings.vault.master_keys.is_none(),
        "nothing of the built-in local.toml is read"
    );
}

#[test]
fn a_missing_config_dir_is_refused_by_its_variable() {
    let working = tempfile::tempdir().unwrap();
    let missing = working.path().join("missing");
    let error = Settings::load_in(
        working.path(),
        variables(&[("BACKHAUL_CONFIG_DIR", missing.to_str().unwrap())]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("BACKHAUL_CONFIG_DIR"), "{error}");
    assert!(error.contains(missing.to_str().unwrap()), "{error}");
}

#[test]
fn prefixed_variables_override_the_files() {
    let settings = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Local,
        variables(&[
            ("BACKHAUL__SERVER__LISTEN", "127.0.0.1:9999"),
            ("BACKHAUL__SERVER__LABEL_LOCK_MS", "1500"),
            ("BACKHAUL__USPS__BASE_URL", "https://apis-tem.usps.com"),
            ("BACKHAUL__DATABASE__MAX_CONNECTIONS", "3"),
            ("BACKHAUL__USPS_SIM__LISTEN", "127.0.0.1:9998"),
        ]),
    )
    .unwrap();
    assert_eq!(settings.server.listen.port(), 9999);
    assert_eq!(settings.server.label_lock_ms, Some(1500));
    assert_eq!(settings.usps.base_url, "https://apis-tem.usps.com");
    assert_eq!(settings.database.max_connections, 3);
    assert_eq!(settings.usps_sim.listen.port(), 9998);
}

#[test]
fn the_servers_limits_have_defaults_and_keys() {
    let defaults =
        Settings::load_from(&ConfigFiles::BuiltIn, Environment::Test, variables(&[])).unwrap();
    assert_eq!(defaults.server.max_connections, 1024);
    assert_eq!(defaults.server.header_read_timeout_secs, 10);
    assert_eq!(defaults.server.rate_limit_per_second, 100);
    let settings = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[
            ("BACKHAUL__SERVER__MAX_CONNECTIONS", "64"),
            ("BACKHAUL__SERVER__HEADER_READ_TIMEOUT_SECS", "3"),
            ("BACKHAUL__SERVER__IDLE_TIMEOUT_SECS", "4"),
            ("BACKHAUL__SERVER__REQUEST_TIMEOUT_SECS", "5"),
            ("BACKHAUL__SERVER__RATE_LIMIT_PER_SECOND", "6"),
            ("BACKHAUL__SERVER__RATE_LIMIT_BURST", "7"),
        ]),
    )
    .unwrap();
    let server = &settings.server;
    assert_eq!(
        (
            server.max_connections,
            server.header_read_timeout_secs,
            server.idle_timeout_secs,
            server.request_timeout_secs,
            server.rate_limit_per_second,
            server.rate_limit_burst
        ),
        (64, 3, 4, 5, 6, 7)
    );
    for variable in [
        "BACKHAUL__SERVER__MAX_CONNECTIONS",
        "BACKHAUL__SERVER__IDLE_TIMEOUT_SECS",
        "BACKHAUL__SERVER__RATE_LIMIT_BURST",
    ] {
        let error = Settings::load_from(
            &ConfigFiles::BuiltIn,
            Environment::Test,
            variables(&[(variable, "0")]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains(variable), "{error}");
    }
}

#[test]
fn a_label_lock_of_zero_is_refused_by_its_key() {
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[("BACKHAUL__SERVER__LABEL_LOCK_MS", "0")]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("server.label_lock_ms"), "{error}");
}

#[test]
fn database_url_is_accepted_when_the_prefixed_variable_is_unset() {
    let settings = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[("DATABASE_URL", "postgres://owner@db.internal:6543/backhaul")]),
    )
    .unwrap();
    let options = settings.database.owner_options().unwrap();
    assert_eq!(options.get_host(), "db.internal");
    assert_eq!(options.get_port(), 6543);
    assert_eq!(options.get_database(), Some("backhaul"));
}

#[test]
fn the_prefixed_database_url_wins_over_database_url() {
    let settings = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[
            ("DATABASE_URL", "postgres://owner@other:5432/other"),
            (
                "BACKHAUL__DATABASE__URL",
                "postgres://owner@chosen:5432/chosen",
            ),
        ]),
    )
    .unwrap();
    let options = settings.database.owner_options().unwrap();
    assert_eq!(options.get_host(), "chosen");
}

#[test]
fn a_missing_database_url_is_reported_by_its_key() {
    let settings =
        Settings::load_from(&ConfigFiles::BuiltIn, Environment::Test, variables(&[])).unwrap();
    let error = settings.database.owner_options().unwrap_err().to_string();
    assert!(error.contains("database.url"), "{error}");
    assert!(error.contains("DATABASE_URL"), "{error}");
}

#[test]
fn an_invalid_database_url_is_refused_without_echoing_it() {
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[("DATABASE_URL", "postgres://owner:hunter2@db:notaport/x")]),
    )
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("database.url"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn production_refuses_a_missing_master_key() {
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Production,
        variables(&[]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("vault.master_keys"), "{error}");
    assert!(error.contains("BACKHAUL__VAULT__MASTER_KEYS"), "{error}");
}

#[test]
fn production_refuses_a_development_key_even_beside_a_real_one() {
    let keys = format!("{PRODUCTION_KEYS},dev:mXvwby+BXnvGqt7ZrFlIG0A0tFfi7r62g39zMy9Usjc=");
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Production,
        variables(&[("BACKHAUL__VAULT__MASTER_KEYS", &keys)]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("development master key"), "{error}");
    assert!(!error.contains("mXvwby"), "{error}");
}

#[test]
fn other_environments_accept_the_development_key() {
    Settings::load_from(&ConfigFiles::BuiltIn, Environment::Test, {
        variables(&[(
            "BACKHAUL__VAULT__MASTER_KEYS",
            "dev:mXvwby+BXnvGqt7ZrFlIG0A0tFfi7r62g39zMy9Usjc=",
        )])
    })
    .unwrap();
}

#[test]
fn an_invalid_master_key_is_reported_by_its_key_without_its_material() {
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[("BACKHAUL__VAULT__MASTER_KEYS", "k1:c2hvcnQtc2VjcmV0")]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("vault.master_keys"), "{error}");
    assert!(error.contains("32 bytes"), "{error}");
    assert!(!error.contains("c2hvcnQtc2VjcmV0"), "{error}");
}

#[test]
fn a_partly_configured_platform_app_is_refused_for_every_carrier() {
    for id in ["usps", "ups"] {
        let variable = format!("BACKHAUL__{}__CLIENT_ID", id.to_uppercase());
        let error = Settings::load_from(
            &ConfigFiles::BuiltIn,
            Environment::Test,
            variables(&[(variable.as_str(), "my-app")]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains(&format!("{id}.client_secret")), "{error}");
        assert!(error.contains(&format!("{id}.redirect_uri")), "{error}");
        let variable = format!("BACKHAUL__{}__AUTHORIZE_URL", id.to_uppercase());
        let error = Settings::load_from(
            &ConfigFiles::BuiltIn,
            Environment::Test,
            variables(&[(variable.as_str(), "https://example.com/authorize")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains(&format!("{id}.authorize_url is set")),
            "{error}"
        );
    }
}

#[test]
fn an_invalid_usps_url_is_reported_by_its_key() {
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[("BACKHAUL__USPS__BASE_URL", "apis.usps.com")]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("usps.base_url"), "{error}");
}

#[test]
fn an_unknown_environment_is_refused() {
    let error = Environment::parse(Some("staging")).unwrap_err().to_string();
    assert!(error.contains("BACKHAUL_ENV"), "{error}");
}

#[test]
fn debug_output_redacts_every_secret() {
    let settings = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Local,
        variables(&[
            ("DATABASE_URL", "postgres://owner:db-secret-1@db:5432/x"),
            ("BACKHAUL__DATABASE__APP_PASSWORD", "app-secret-2"),
            (
                "BACKHAUL__VAULT__MASTER_KEYS",
                "k1:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMzISE=",
            ),
            ("BACKHAUL__USPS__CLIENT_SECRET", "usps-secret-4"),
        ]),
    )
    .unwrap();
    let debug = format!("{settings:?}");
    for secret in [
        "db-secret-1",
        "app-secret-2",
        "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMzISE=",
        "usps-secret-4",
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert!(debug.contains("REDACTED"), "{debug}");
}

#[test]
fn a_ups_listener_client_id_without_its_secret_is_refused() {
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[("BACKHAUL__UPS__LISTENER_CLIENT_ID", "listener")]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("ups.listener_client_secret"), "{error}");
}

#[test]
fn a_short_ups_listener_secret_is_refused_without_being_shown() {
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[
            ("BACKHAUL__UPS__LISTENER_CLIENT_ID", "listener"),
            ("BACKHAUL__UPS__LISTENER_CLIENT_SECRET", "tiny-s3cret"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("at least 16 characters"), "{error}");
    assert!(!error.contains("tiny-s3cret"), "{error}");
}

#[test]
fn a_partly_configured_ups_simulator_webhook_is_refused() {
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Test,
        variables(&[("BACKHAUL__UPS_SIM__WEBHOOK_URL", "http://127.0.0.1:9/hook")]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("ups_sim.webhook_token_url"), "{error}");
    assert!(error.contains("ups_sim.webhook_client_secret"), "{error}");
}

#[test]
fn the_local_ups_simulator_pushes_to_the_local_listener_with_its_credentials() {
    let settings = Settings::load_from(
        &ConfigFiles::Given(repository_config()),
        Environment::Local,
        variables(&[]),
    )
    .unwrap();
    let api = settings.server.listen;
    assert_eq!(
        settings.ups_sim.webhook_url.as_deref(),
        Some(format!("http://{api}/v1/carrier-webhooks/ups").as_str())
    );
    assert_eq!(
        settings.ups_sim.webhook_token_url.as_deref(),
        Some(format!("http://{api}/v1/carrier-webhooks/ups/token").as_str())
    );
    assert_eq!(
        settings.ups_sim.webhook_client_id,
        settings.ups.listener_client_id
    );
    let (Some(sent), Some(checked)) = (
        &settings.ups_sim.webhook_client_secret,
        &settings.ups.listener_client_secret,
    ) else {
        panic!("both secrets are set in local.toml");
    };
    assert_eq!(sent.expose_secret(), checked.expose_secret());
    assert!(settings.ups.simulator_webhook.is_some());
}

#[test]
fn only_local_and_test_allow_private_webhook_urls() {
    let load = |environment| {
        Settings::load_from(
            &ConfigFiles::Given(repository_config()),
            environment,
            variables(&[("BACKHAUL__VAULT__MASTER_KEYS", PRODUCTION_KEYS)]),
        )
        .unwrap()
    };
    assert!(load(Environment::Local).webhooks.allow_private_urls);
    assert!(load(Environment::Test).webhooks.allow_private_urls);
    assert!(!load(Environment::Production).webhooks.allow_private_urls);
}

#[test]
fn production_refuses_private_webhook_urls() {
    let error = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Production,
        variables(&[
            ("BACKHAUL__VAULT__MASTER_KEYS", PRODUCTION_KEYS),
            ("BACKHAUL__WEBHOOKS__ALLOW_PRIVATE_URLS", "true"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("webhooks.allow_private_urls"), "{error}");
    assert!(
        error.contains("BACKHAUL__WEBHOOKS__ALLOW_PRIVATE_URLS"),
        "{error}"
    );
}

#[test]
fn console_cookies_are_always_secure_in_production_only() {
    for (environment, secure) in [
        (Environment::Local, false),
        (Environment::Test, false),
        (Environment::Production, true),
    ] {
        let settings = Settings::load_from(
            &ConfigFiles::BuiltIn,
            environment,
            variables(&[("BACKHAUL__VAULT__MASTER_KEYS", PRODUCTION_KEYS)]),
        )
        .unwrap();
        assert_eq!(settings.console.secure_cookies, secure, "{environment:?}");
    }
    let settings = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Local,
        variables(&[("BACKHAUL__CONSOLE__SECURE_COOKIES", "true")]),
    )
    .unwrap();
    assert!(settings.console.secure_cookies);
}

#[test]
fn a_fedex_platform_app_needs_both_its_id_and_its_secret() {
    for (variable, missing) in [
        ("BACKHAUL__FEDEX__CLIENT_ID", "fedex.client_secret"),
        ("BACKHAUL__FEDEX__CLIENT_SECRET", "fedex.client_id"),
    ] {
        let error = Settings::load_from(
            &ConfigFiles::BuiltIn,
            Environment::Test,
            variables(&[(variable, "sentinel-fedex-value")]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains(missing), "{error}");
        assert!(!error.contains("sentinel-fedex-value"), "{error}");
    }
    let production = Settings::load_from(
        &ConfigFiles::BuiltIn,
        Environment::Production,
        variables(&[("BACKHAUL__VAULT__MASTER_KEYS", PRODUCTION_KEYS)]),
    )
    .unwrap();
    assert_eq!(production.fedex.base_url, "https://apis.fedex.com");
}
