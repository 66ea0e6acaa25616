//! Prefixed random identifiers (`ten_…`, `sa_…`, `key_…`, `lbl_…`): a type per kind, so a
//! tenant id can never be passed where an account id belongs, and every query that needs a
//! tenant takes a [`TenantId`].

use std::fmt;

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};

use carrier::ValidationErrors;

const RANDOM_LEN: usize = 20;

fn random_suffix() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(RANDOM_LEN)
        .map(char::from)
        .collect()
}

macro_rules! prefixed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh random id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, random_suffix()))
            }

            /// Accepts only well-formed ids of this kind; the error names `field`.
            pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
                let valid = raw
                    .strip_prefix($prefix)
                    .is_some_and(|rest| {
                        rest.len() == RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
                    });
                if valid {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(ValidationErrors::single(
                        field,
                        concat!("must be an id starting with ", $prefix),
                    ))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationErrors;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse("id", &value)
            }
        }
    };
}

prefixed_id!(
    /// A tenant: one customer of the returns SaaS, whose data no other tenant can see.
    TenantId,
    "ten_"
);
prefixed_id!(
    /// A shipper account (a merchant's carrier account).
    AccountId,
    "sa_"
);
prefixed_id!(
    /// An API key (its id, never its secret).
    ApiKeyId,
    "key_"
);
prefixed_id!(
    /// A bought return label.
    LabelId,
    "lbl_"
);
prefixed_id!(
    /// An event of the tenant's event log (and the `webhook-id` of its deliveries).
    EventId,
    "evt_"
);
prefixed_id!(
    /// One tracking event of a label.
    TrackingEventId,
    "tev_"
);
prefixed_id!(
    /// A tenant's webhook endpoint (a URL of the returns SaaS that events are delivered to).
    WebhookEndpointId,
    "we_"
);
prefixed_id!(
    /// One delivery of one event to one webhook endpoint.
    DeliveryId,
    "whd_"
);
prefixed_id!(
    /// An account-scoped carrier push subscription.
    SubscriptionId,
    "tsub_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let id = AccountId::generate();
        assert_eq!(AccountId::parse("id", id.as_str()).unwrap(), id);
    }

    #[test]
    fn an_id_of_another_kind_is_refused() {
        let tenant = TenantId::generate();
        assert!(
            AccountId::parse("shipper_account_id", tenant.as_str())
                .unwrap_err()
                .names("shipper_account_id")
        );
    }
}
