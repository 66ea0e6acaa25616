//! The command line (clap), as API.md lists it, and how commands write their results.
//!
//! Results an operator reads or copies (keys, ids, counts) go to stdout; logs go to stderr.

use std::fmt::Display;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

/// Backhaul: returns labels through carrier plugins.
///
/// Configuration: base.toml, then {BACKHAUL_ENV}.toml (local, test, production) from
/// BACKHAUL_CONFIG_DIR, else ./config, else the defaults built into the binary; then
/// BACKHAUL__SECTION__KEY environment variables (see the README).
#[derive(Debug, Parser)]
#[command(name = "backhaul", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// One-command local start: a private Postgres (unless DATABASE_URL is set), migrations,
    /// the USPS simulator, the API, a demo tenant and an admin key. Ctrl-C stops everything.
    Dev,
    /// Run the API server on `server.listen` (migrations must have been applied).
    Serve,
    /// Apply the database migrations as the database owner and exit.
    Migrate,
    /// Run the USPS simulator alone (OAuth with its consent page, Payments, Labels v3, Web Tools).
    UspsSim(SimulatorArgs),
    /// Run the UPS simulator alone ("Login with UPS" with PKCE, client credentials, Ship, Void).
    UpsSim(SimulatorArgs),
    /// Run the FedEx simulator alone (OAuth, Account Registration with PINs it shows at
    /// `/__sim/registration/pins`, return shipments, cancel, track).
    FedexSim(SimulatorArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Manage admin API keys.
    #[command(subcommand)]
    AdminKeys(AdminKeysCommand),
    /// List, create and revoke API keys, tenant and admin (secrets are shown once, on create).
    #[command(subcommand)]
    ApiKeys(ApiKeysCommand),
    /// Manage the vault's master keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The load benchmark: N clients buy return labels for T seconds against `backhaul serve`
    /// (a child process), the simulator (in-process, zero latency) and Postgres (a private one
    /// unless a database is configured); then the same N connections run a two-insert
    /// transaction loop for the database-bound limit. Prints a table, or one JSON object.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Concurrent clients (and connections of the database-limit loop).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) clients: u16,
    /// Tenants, each with its own account: client i buys for tenant i mod N, or, with more
    /// tenants than clients, for tenants i, i + clients, … in turn. One tenant (the default)
    /// puts every label on one tenant's rows and audit chain, the worst case; more show how
    /// the service scales across tenants.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) tenants: u16,
    /// Seconds of each measured phase.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub(crate) seconds: u32,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub(crate) json: bool,
    /// The database owner's connection string (else `database.url` / `DATABASE_URL`, else a
    /// private throwaway Postgres under `./.backhaul/bench-postgres`). The benchmark adds a
    /// tenant, its labels and a scratch schema (dropped afterwards) to it.
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    /// Also measure webhooks: a local receiver registered for every benchmark tenant, the
    /// deliveries the label load's events bring, then a phase of `webhook.test` events —
    /// deliveries per second and the lag from each event's commit to the receiver's 2xx.
    #[arg(long)]
    pub(crate) webhooks: bool,
    /// `backhaul serve` processes on the one database; client i sends to server i mod N. Each
    /// gets `database.max_connections / N` (rounded up), so that they hold as many connections
    /// as one would. They share every background job (the audit sequencer, tracking polls,
    /// webhook deliveries) through Postgres, as in production.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=8))]
    pub(crate) instances: u16,
}

/// The options of every `backhaul <carrier>-sim`.
#[derive(Debug, Args)]
pub(crate) struct SimulatorArgs {
    /// Address to listen on; defaults to `<carrier>_sim.listen` from the configuration.
    #[arg(long)]
    pub(crate) listen: Option<SocketAddr>,
    /// A TOML or JSON file with the simulator's test data (its apps, users and accounts: see
    /// the simulator crate's `SimConfig`); the built-in demo data when absent.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TenantsCommand {
    /// Create a tenant; prints its id and its first API key (shown once).
    Create {
        /// The tenant's name (1 to 200 characters).
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminKeysCommand {
    /// Create an admin API key (for /v1/admin/*); prints it once.
    Create {
        /// A name for the key, e.g. who or what uses it.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApiKeysCommand {
    /// List API keys, newest first, without their secrets: every live key, one tenant's
    /// (`--tenant`) or the admin keys (`--admin`).
    List {
        /// Only this tenant's keys (`ten_…`).
        #[arg(long, value_name = "ID", conflicts_with = "admin")]
        tenant: Option<String>,
        /// Only admin keys.
        #[arg(long)]
        admin: bool,
        /// Revoked keys too.
        #[arg(long)]
        include_revoked: bool,
        /// Print one JSON array (id, tenant_id, kind, name, created_at, revoked_at,
        /// last_used_at) instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Create a tenant's key or an admin key; prints it once.
    Create {
        #[command(flatten)]
        owner: KeyOwner,
        /// A name for the key, e.g. who or what uses it (1 to 200 characters).
        #[arg(long)]
        name: String,
    },
    /// Revoke an API key: it stops authenticating at once, and console sessions opened with it
    /// end.
    Revoke {
        /// The key's id (`key_…`, as `api-keys list` shows it).
        #[arg(value_name = "KEY_ID")]
        key_id: String,
    },
}

/// Whose new key: a tenant's or an admin key, exactly one.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct KeyOwner {
    /// A key of this tenant (`ten_…`).
    #[arg(long, value_name = "ID")]
    pub(crate) tenant: Option<String>,
    /// An admin key (it opens /v1/admin/* only).
    #[arg(long)]
    pub(crate) admin: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make the first configured master key primary and re-wrap every stored data key under
    /// it, online. Configure the new key first in the list and keep the old ones after it.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify the audit hash chains; exit 0 if intact, 1 and the first bad event id otherwise.
    Verify {
        /// Only this tenant's chain (`ten_…`); every chain when absent.
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// Writes one line of a command's result to stdout.
pub(crate) fn print(line: impl Display) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .context("writing to stdout")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_api_md_command_parses() {
        for args in [
            &["backhaul", "dev"][..],
            &["backhaul", "serve"],
            &["backhaul", "migrate"],
            &["backhaul", "usps-sim", "--listen", "127.0.0.1:8081"],
            &["backhaul", "tenants", "create", "--name", "Acme"],
            &["backhaul", "admin-keys", "create", "--name", "ops"],
            &["backhaul", "api-keys", "list"],
            &[
                "backhaul",
                "api-keys",
                "list",
                "--tenant",
                "ten_x",
                "--include-revoked",
            ],
            &["backhaul", "api-keys", "list", "--admin", "--json"],
            &[
                "backhaul", "api-keys", "create", "--tenant", "ten_x", "--name", "ci",
            ],
            &["backhaul", "api-keys", "create", "--admin", "--name", "ops"],
            &["backhaul", "api-keys", "revoke", "key_x"],
            &["backhaul", "keys", "rotate"],
            &["backhaul", "audit", "verify"],
            &["backhaul", "audit", "verify", "--tenant", "ten_x"],
            &["backhaul", "bench"],
            &[
                "backhaul",
                "bench",
                "--clients",
                "16",
                "--seconds",
                "20",
                "--json",
            ],
            &["backhaul", "bench", "--database-url", "postgres://u@h/db"],
        ] {
            Cli::try_parse_from(args).unwrap();
        }
    }

    #[test]
    fn bench_defaults_to_sixteen_clients_for_twenty_seconds() {
        let Command::Bench(args) = Cli::try_parse_from(["backhaul", "bench"]).unwrap().command
        else {
            panic!("not the bench command");
        };
        assert_eq!(
            (args.clients, args.tenants, args.seconds, args.json),
            (16, 1, 20, false)
        );
    }

    #[test]
    fn bench_refuses_zero_clients_and_zero_seconds() {
        for args in [
            &["backhaul", "bench", "--clients", "0"][..],
            &["backhaul", "bench", "--seconds", "0"],
            &["backhaul", "bench", "--tenants", "0"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn api_keys_create_needs_exactly_one_owner_and_list_at_most_one() {
        for args in [
            &["backhaul", "api-keys", "create", "--name", "ci"][..],
            &[
                "backhaul", "api-keys", "create", "--tenant", "ten_x", "--admin", "--name", "ci",
            ],
            &["backhaul", "api-keys", "create", "--admin"],
            &[
                "backhaul", "api-keys", "list", "--tenant", "ten_x", "--admin",
            ],
            &["backhaul", "api-keys", "revoke"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
