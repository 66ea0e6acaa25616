//! The address every API input takes (`carrier::AddressInput`, the same for every carrier), as
//! forms ask for it: its parts in reading order with the browser's autocomplete token for each,
//! and as an account page shows it.

use serde_json::Value;

/// The parts of an address in the order a form asks for them, with their `autocomplete`.
pub const ORDER: [(&str, &str); 14] = [
    ("first_name", "given-name"),
    ("last_name", "family-name"),
    ("firm", "organization"),
    ("street1", "address-line1"),
    ("street2", "address-line2"),
    ("city", "address-level2"),
    ("state", "address-level1"),
    ("postal_code", "postal-code"),
    ("zip5", "postal-code"),
    ("zip4", "off"),
    ("urbanization", "off"),
    ("country", "country"),
    ("phone", "tel"),
    ("email", "email"),
];

/// The browser's autocomplete token for address part `key`.
pub fn autocomplete(key: &str) -> Option<&'static str> {
    ORDER
        .iter()
        .find(|(part, _)| *part == key)
        .map(|(_, token)| *token)
}

/// Whether every key of `object` is an address part (so it reads as an address).
pub fn is_address<'a>(mut keys: impl Iterator<Item = &'a str>) -> bool {
    keys.all(|key| autocomplete(key).is_some())
}

/// An address as lines: name or company, streets, "city state postal code", country.
pub fn lines(address: &Value) -> Vec<String> {
    let part = |key: &str| {
        address
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let postal = [part("postal_code"), part("zip5")]
        .into_iter()
        .find(|code| !code.is_empty())
        .map(|code| match part("zip4") {
            zip4 if !zip4.is_empty() && !code.contains('-') => format!("{code}-{zip4}"),
            _ => code,
        })
        .unwrap_or_default();
    [
        format!("{} {}", part("first_name"), part("last_name")),
        part("firm"),
        part("street1"),
        part("street2"),
        format!("{} {} {}", part("city"), part("state"), postal),
        part("country"),
    ]
    .into_iter()
    .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
    .filter(|line| !line.is_empty())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_address_reads_as_lines() {
        let address = json!({"firm": "Acme", "street1": "4120 Bingham Ave", "city": "St. Louis",
                             "state": "MO", "zip5": "63116", "zip4": "2520"});
        assert_eq!(
            lines(&address),
            ["Acme", "4120 Bingham Ave", "St. Louis MO 63116-2520"]
        );
        assert!(is_address(["firm", "city"].into_iter()));
        assert!(!is_address(["firm", "dock"].into_iter()));
    }
}
