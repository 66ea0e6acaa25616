//! Which shipper account buys a label (API.md): an explicit id when given; otherwise the
//! tenant's active accounts for the carrier that offer the service and carry every selector
//! tag; among them the default, else the lowest priority, else the oldest. The choice says why
//! (`selected_by`), and when nothing fits the reason is one a merchant understands.
//!
//! [`choose`] is a pure function over the tenant's accounts so that every rule and every
//! reason is table-tested; the service feeds it from Postgres.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::account::AccountStatus;

/// Why an account was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectedBy {
    /// The request named it.
    Explicit,
    /// The selector's tags matched exactly one account.
    Selector,
    /// The tenant's default account for the carrier.
    Default,
    /// The lowest priority (then the oldest) of several.
    Priority,
    /// The only eligible account.
    Only,
}

impl SelectedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectedBy::Explicit => "explicit",
            SelectedBy::Selector => "selector",
            SelectedBy::Default => "default",
            SelectedBy::Priority => "priority",
            SelectedBy::Only => "only",
        }
    }
}

/// What the selection looks at for one account.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub status: AccountStatus,
    pub is_default: bool,
    pub priority: i32,
    pub tags: &'a BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    /// Whether the carrier says this account can buy the requested service.
    pub offers_service: bool,
}

/// The request's constraints.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    /// The carrier's display name, for messages.
    pub carrier_name: &'a str,
    pub service: &'a str,
    pub explicit_id: Option<&'a str>,
    pub selector: Option<&'a BTreeMap<String, String>>,
}

fn status_phrase(status: AccountStatus) -> &'static str {
    match status {
        AccountStatus::Active => "active",
        AccountStatus::PendingDetails => "waiting for its account details",
        AccountStatus::PendingVerification => {
            "waiting for the merchant to verify it with the carrier"
        }
        AccountStatus::ReauthorizationRequired => "waiting to be re-authorized with the carrier",
        AccountStatus::Disabled => "disabled",
    }
}

fn describe_tags(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Picks the account for a label, or explains why none fits.
pub fn choose(
    candidates: &[Candidate<'_>],
    wanted: Wanted<'_>,
) -> Result<(usize, SelectedBy), String> {
    let carrier = wanted.carrier_name;
    if let Some(id) = wanted.explicit_id {
        let Some(index) = candidates.iter().position(|c| c.id == id) else {
            return Err(format!("shipper account {id} does not exist for {carrier}"));
        };
        let account = &candidates[index];
        if account.status != AccountStatus::Active {
            return Err(format!(
                "shipper account {id} ({}) is {}",
                account.name,
                status_phrase(account.status)
            ));
        }
        if !account.offers_service {
            return Err(format!(
                "shipper account {id} ({}) does not offer {}",
                account.name, wanted.service
            ));
        }
        return Ok((index, SelectedBy::Explicit));
    }

    if candidates.is_empty() {
        return Err(format!("no {carrier} account is connected"));
    }
    let active: Vec<usize> = (0..candidates.len())
        .filter(|&i| candidates[i].status == AccountStatus::Active)
        .collect();
    if active.is_empty() {
        return Err(if let [only] = candidates {
            format!(
                "the only {carrier} account ({}) is {}",
                only.name,
                status_phrase(only.status)
            )
        } else {
            format!(
                "none of the {} {carrier} accounts is active",
                candidates.len()
            )
        });
    }
    let offering: Vec<usize> = active
        .iter()
        .copied()
        .filter(|&i| candidates[i].offers_service)
        .collect();
    if offering.is_empty() {
        return Err(format!(
            "no active {carrier} account offers {} ({} active account{} checked)",
            wanted.service,
            active.len(),
            if active.len() == 1 { "" } else { "s" }
        ));
    }
    let selector = wanted.selector.filter(|tags| !tags.is_empty());
    let eligible: Vec<usize> = match selector {
        Some(selector) => offering
            .iter()
            .copied()
            .filter(|&i| {
                selector
                    .iter()
                    .all(|(key, value)| candidates[i].tags.get(key) == Some(value))
            })
            .collect(),
        None => offering,
    };
    if eligible.is_empty() {
        let tags = selector.map(describe_tags).unwrap_or_default();
        let tagged_elsewhere = candidates.iter().any(|c| {
            selector.is_some_and(|selector| {
                selector
                    .iter()
                    .all(|(key, value)| c.tags.get(key) == Some(value))
            })
        });
        return Err(if tagged_elsewhere {
            format!(
                "no active {carrier} account tagged {tags} offers {}",
                wanted.service
            )
        } else {
            format!("no {carrier} account is tagged {tags}")
        });
    }
    if let [only] = eligible[..] {
        let by = if selector.is_some() {
            SelectedBy::Selector
        } else {
            SelectedBy::Only
        };
        return Ok((only, by));
    }
    if let Some(&default) = eligible.iter().find(|&&i| candidates[i].is_default) {
        return Ok((default, SelectedBy::Default));
    }
    let best = eligible
        .iter()
        .copied()
        .min_by(|&a, &b| {
            let (a, b) = (&candidates[a], &candidates[b]);
            (a.priority, a.created_at, a.id).cmp(&(b.priority, b.created_at, b.id))
        })
        .unwrap_or(eligible[0]);
    Ok((best, SelectedBy::Priority))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    struct Row {
        id: &'static str,
        status: AccountStatus,
        is_default: bool,
        priority: i32,
        tags: BTreeMap<String, String>,
        day: u32,
        offers: bool,
    }

    fn row(id: &'static str) -> Row {
        Row {
            id,
            status: AccountStatus::Active,
            is_default: false,
            priority: 0,
            tags: BTreeMap::new(),
            day: 1,
            offers: true,
        }
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A table row: the accounts, the explicit id, the selector tags, and the outcome.
    type Case<T> = (
        Vec<Row>,
        Option<&'static str>,
        Vec<(&'static str, &'static str)>,
        T,
    );

    fn run(
        rows: &[Row],
        explicit: Option<&str>,
        selector: &[(&str, &str)],
    ) -> Result<(&'static str, SelectedBy), String> {
        let selector = tags(selector);
        let candidates: Vec<Candidate<'_>> = rows
            .iter()
            .map(|r| Candidate {
                id: r.id,
                name: r.id,
                status: r.status,
                is_default: r.is_default,
                priority: r.priority,
                tags: &r.tags,
                created_at: Utc.with_ymd_and_hms(2026, 1, r.day, 0, 0, 0).unwrap(),
                offers_service: r.offers,
            })
            .collect();
        choose(
            &candidates,
            Wanted {
                carrier_name: "Acme",
                service: "acme_express_return",
                explicit_id: explicit,
                selector: Some(&selector),
            },
        )
        .map(|(index, by)| (rows[index].id, by))
    }

    #[test]
    fn selection_follows_every_rule_in_order() {
        let east = || Row {
            tags: tags(&[("location", "east")]),
            ..row("east")
        };
        let west = || Row {
            tags: tags(&[("location", "west")]),
            ..row("west")
        };
        let cases: Vec<(&str, Case<(&str, SelectedBy)>)> = vec![
            (
                "an explicit id wins over the default",
                (
                    vec![
                        Row {
                            is_default: true,
                            ..row("a")
                        },
                        row("b"),
                    ],
                    Some("b"),
                    vec![],
                    ("b", SelectedBy::Explicit),
                ),
            ),
            (
                "the one tagged account is chosen by selector",
                (
                    vec![east(), west()],
                    None,
                    vec![("location", "west")],
                    ("west", SelectedBy::Selector),
                ),
            ),
            (
                "the default wins among several",
                (
                    vec![
                        row("a"),
                        Row {
                            is_default: true,
                            priority: 9,
                            ..row("b")
                        },
                    ],
                    None,
                    vec![],
                    ("b", SelectedBy::Default),
                ),
            ),
            (
                "the default wins among several tagged ones",
                (
                    vec![
                        east(),
                        Row {
                            is_default: true,
                            ..east()
                        },
                    ],
                    None,
                    vec![("location", "east")],
                    ("east", SelectedBy::Default),
                ),
            ),
            (
                "the lowest priority wins without a default",
                (
                    vec![
                        Row {
                            priority: 5,
                            ..row("a")
                        },
                        Row {
                            priority: 1,
                            ..row("b")
                        },
                    ],
                    None,
                    vec![],
                    ("b", SelectedBy::Priority),
                ),
            ),
            (
                "the oldest wins a priority tie",
                (
                    vec![Row { day: 3, ..row("a") }, Row { day: 2, ..row("b") }],
                    None,
                    vec![],
                    ("b", SelectedBy::Priority),
                ),
            ),
            (
                "a lone eligible account is the only one",
                (
                    vec![
                        row("a"),
                        Row {
                            status: AccountStatus::Disabled,
                            ..row("b")
                        },
                    ],
                    None,
                    vec![],
                    ("a", SelectedBy::Only),
                ),
            ),
            (
                "a disabled default is passed over",
                (
                    vec![
                        Row {
                            is_default: true,
                            status: AccountStatus::Disabled,
                            ..row("a")
                        },
                        row("b"),
                        Row {
                            priority: 1,
                            ..row("c")
                        },
                    ],
                    None,
                    vec![],
                    ("b", SelectedBy::Priority),
                ),
            ),
            (
                "an account without the service is passed over",
                (
                    vec![
                        Row {
                            is_default: true,
                            offers: false,
                            ..row("a")
                        },
                        row("b"),
                    ],
                    None,
                    vec![],
                    ("b", SelectedBy::Only),
                ),
            ),
        ];
        for (name, (rows, explicit, selector, expected)) in cases {
            assert_eq!(run(&rows, explicit, &selector), Ok(expected), "{name}");
        }
    }

    #[test]
    fn every_no_eligible_account_reason_is_explained() {
        let cases: Vec<Case<&str>> = vec![
            (vec![], None, vec![], "no Acme account is connected"),
            (
                vec![Row {
                    status: AccountStatus::Disabled,
                    ..row("a")
                }],
                None,
                vec![],
                "the only Acme account (a) is disabled",
            ),
            (
                vec![Row {
                    status: AccountStatus::PendingDetails,
                    ..row("a")
                }],
                None,
                vec![],
                "the only Acme account (a) is waiting for its account details",
            ),
            (
                vec![Row {
                    status: AccountStatus::ReauthorizationRequired,
                    ..row("a")
                }],
                None,
                vec![],
                "the only Acme account (a) is waiting to be re-authorized with the carrier",
            ),
            (
                vec![
                    Row {
                        status: AccountStatus::Disabled,
                        ..row("a")
                    },
                    Row {
                        status: AccountStatus::Disabled,
                        ..row("b")
                    },
                ],
                None,
                vec![],
                "none of the 2 Acme accounts is active",
            ),
            (
                vec![Row {
                    offers: false,
                    ..row("a")
                }],
                None,
                vec![],
                "no active Acme account offers acme_express_return (1 active account checked)",
            ),
            (
                vec![row("a")],
                None,
                vec![("location", "west")],
                "no Acme account is tagged location=west",
            ),
            (
                vec![
                    Row {
                        tags: tags(&[("location", "west")]),
                        offers: false,
                        ..row("a")
                    },
                    row("b"),
                ],
                None,
                vec![("location", "west")],
                "no active Acme account tagged location=west offers acme_express_return",
            ),
            (
                vec![row("a")],
                Some("sa_missing"),
                vec![],
                "shipper account sa_missing does not exist for Acme",
            ),
            (
                vec![Row {
                    status: AccountStatus::Disabled,
                    ..row("a")
                }],
                Some("a"),
                vec![],
                "shipper account a (a) is disabled",
            ),
            (
                vec![Row {
                    offers: false,
                    ..row("a")
                }],
                Some("a"),
                vec![],
                "shipper account a (a) does not offer acme_express_return",
            ),
        ];
        for (rows, explicit, selector, reason) in cases {
            assert_eq!(run(&rows, explicit, &selector), Err(reason.to_owned()));
        }
    }
}
