//! Tag tables as data, and a checker that walks a request's element tree against one: tag
//! names (exact case), their order, how often each occurs, required tags, and each value's
//! length, type, pattern and enumeration. The first violation, in document order, is the
//! answer, as Web Tools returns one `<Error>` per request.
//!
//! A table is a sequence: each tag may appear only after the tags listed before it, a required
//! tag must be present (even when its value may be empty, like `<CustomerAddress1/>`), and an
//! optional tag may be left out. Values have their whitespace collapsed before they are checked
//! (`Element::value`). An empty value stands for "not given" unless the tag's
//! `minLength` is 1 or more, in which case it is a missing value.

use chrono::{Duration, NaiveDate};

use crate::webtools::document::Element;
use crate::webtools::error::{WebToolsError, number};

/// Which guide introduced a tag (or a tag's spelling).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Guide {
    /// Returns Label API v1.2 (12/18/2020).
    V1_2,
    /// Returns Label API v1.5 (10/22/2021).
    V1_5,
}

/// How often a tag occurs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Occurs {
    /// Exactly once.
    Required,
    /// At most once.
    Optional,
    /// At most this many times.
    UpTo(usize),
}

impl Occurs {
    fn max(self) -> usize {
        match self {
            Self::Required | Self::Optional => 1,
            Self::UpTo(max) => max,
        }
    }
}

/// The allowed values of a tag, after whitespace collapsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Any text.
    Text,
    /// ASCII digits, exactly one of these many.
    Digits(&'static [usize]),
    /// `\w{2}`.
    TwoWordCharacters,
    /// `true` or `false`.
    Boolean,
    /// A whole number within the range.
    Integer { min: i64, max: i64 },
    /// A decimal number greater than 0 of at most 10 digits (`minExclusive=0.0`,
    /// `totalDigits=10`).
    Dimension,
    /// Dollars and at most two decimals, from 0 to this many cents.
    Amount { max_cents: u64 },
    /// One of these values.
    Enumeration(&'static [&'static str]),
    /// `([\w\-\.]+)@(([\w-]+\.)+)[a-zA-Z]{2,4}`.
    Email,
    /// `\s*|[0-9]{10}`: 10 digits (blank is "not given").
    Phone,
    /// `dd-mmm-yyyy` or `mm/dd/yyyy`, today to 3 days ahead.
    ShipDate,
}

/// A value tag's rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) min_length: usize,
    pub(crate) max_length: Option<usize>,
    pub(crate) format: Format,
}

/// What a tag holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// Child tags, in this order.
    Group(&'static [Tag]),
    /// A value.
    Value(Rule),
}

/// One row of a tag table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    /// The name (v1.5's spelling where the guides differ).
    pub(crate) name: &'static str,
    /// v1.2's different spelling, accepted too (`SenderEMail` for `SenderEmail`).
    pub(crate) v1_2_spelling: Option<&'static str>,
    pub(crate) since: Guide,
    pub(crate) occurs: Occurs,
    pub(crate) content: Content,
}

impl Tag {
    fn accepts(&self, name: &str) -> bool {
        name == self.name || self.v1_2_spelling == Some(name)
    }

    fn accepts_ignoring_case(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(self.name)
            || self
                .v1_2_spelling
                .is_some_and(|spelling| name.eq_ignore_ascii_case(spelling))
    }
}

/// What the checker knows besides the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    /// The API name, the `Source` of errors.
    pub(crate) api: &'a str,
    /// Today on the simulator clock, for `ShipDate`.
    pub(crate) today: NaiveDate,
}

impl Context<'_> {
    pub(crate) fn error(
        &self,
        number: &'static str,
        description: impl Into<String>,
    ) -> WebToolsError {
        WebToolsError::validation(number, self.api, description)
    }
}

/// The values of a checked request, by tag name (v1.5's spelling), in document order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Checked {
    values: Vec<(&'static str, String)>,
    /// Whether the request used a tag, or a spelling, that v1.5 introduced.
    pub(crate) uses_v1_5: bool,
}

impl Checked {
    /// The value of `name`: empty when the tag is absent or empty.
    pub(crate) fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(key, _)| *key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// The value of `name`, when given and not empty.
    pub(crate) fn given(&self, name: &str) -> Option<&str> {
        Some(self.value(name)).filter(|value| !value.is_empty())
    }

    /// Every non-empty value of a repeated tag.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(key, value)| *key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// `true` when `name` is `true`.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.value(name) == "true"
    }
}

/// Checks `parent`'s children against `tags`, collecting values into `checked`.
pub(crate) fn check_children(
    parent: &Element,
    tags: &'static [Tag],
    context: &Context<'_>,
    checked: &mut Checked,
) -> Result<(), WebToolsError> {
    let parent_name = parent.name.as_str();
    // The table row the walk is at, and how often it has occurred so far.
    let mut index = 0;
    let mut count = 0;
    let mut previous: Option<&str> = None;
    for (offset, child) in parent.children.iter().enumerate() {
        let name = child.name.as_str();
        let position = if index < tags.len()
            && tags[index].accepts(name)
            && count < tags[index].occurs.max()
        {
            count += 1;
            index
        } else if let Some(later) = (index + 1..tags.len()).find(|&at| tags[at].accepts(name)) {
            let first_unseen = if count == 0 { index } else { index + 1 };
            if let Some(missing) = tags[first_unseen..later]
                .iter()
                .find(|tag| tag.occurs == Occurs::Required)
            {
                // A required tag that comes later among the siblings is out of order, not
                // missing.
                let later_sibling = parent.children[offset + 1..]
                    .iter()
                    .any(|sibling| missing.accepts(&sibling.name));
                return Err(if later_sibling {
                    context.error(
                        number::ELEMENT_ORDER,
                        format!(
                            "The element '{parent_name}' has invalid child element '{name}': tags must follow the documented order, and {} comes before {name}.",
                            missing.name
                        ),
                    )
                } else {
                    missing_element(context, parent_name, missing)
                });
            }
            index = later;
            count = 1;
            later
        } else if let Some(earlier) = (0..tags.len()).find(|&at| tags[at].accepts(name)) {
            return Err(if earlier == index {
                match tags[index].occurs {
                    Occurs::UpTo(max) => context.error(
                        number::ELEMENT_ORDER,
                        format!(
                            "The element '{parent_name}' has invalid child element '{name}': {name} may occur at most {max} times."
                        ),
                    ),
                    Occurs::Required | Occurs::Optional => context.error(
                        number::ELEMENT_ORDER,
                        format!(
                            "The element '{parent_name}' has invalid child element '{name}': {name} may occur only once."
                        ),
                    ),
                }
            } else {
                let after = previous.unwrap_or(parent_name);
                context.error(
                    number::ELEMENT_ORDER,
                    format!(
                        "The element '{parent_name}' has invalid child element '{name}' after '{after}': tags must follow the documented order, and {name} comes before {after}.",
                    ),
                )
            });
        } else if let Some(tag) = tags.iter().find(|tag| tag.accepts_ignoring_case(name)) {
            return Err(context.error(
                number::INVALID_ELEMENT,
                format!(
                    "The element '{parent_name}' has invalid child element '{name}': tag names are case-sensitive; expected '{}'.",
                    tag.name
                ),
            ));
        } else {
            return Err(context.error(
                number::INVALID_ELEMENT,
                format!(
                    "The element '{parent_name}' has invalid child element '{name}': {name} is not a tag of {parent_name}."
                ),
            ));
        };
        let tag = &tags[position];
        if tag.since == Guide::V1_5 || (tag.v1_2_spelling.is_some() && name == tag.name) {
            checked.uses_v1_5 = true;
        }
        check_tag(child, tag, context, checked)?;
        previous = Some(name);
    }
    let first_unseen = if count == 0 { index } else { index + 1 };
    if let Some(missing) = tags
        .get(first_unseen..)
        .unwrap_or_default()
        .iter()
        .find(|tag| tag.occurs == Occurs::Required)
    {
        return Err(missing_element(context, parent_name, missing));
    }
    Ok(())
}

fn missing_element(context: &Context<'_>, parent: &str, tag: &Tag) -> WebToolsError {
    let hint = match tag.content {
        Content::Value(rule) if rule.min_length == 0 => {
            format!(" (send <{}/> when it has no value)", tag.name)
        }
        _ => String::new(),
    };
    context.error(
        number::MISSING_ELEMENT,
        format!(
            "The element '{parent}' has incomplete content: the required tag '{}' is missing{hint}.",
            tag.name
        ),
    )
}

fn check_tag(
    element: &Element,
    tag: &Tag,
    context: &Context<'_>,
    checked: &mut Checked,
) -> Result<(), WebToolsError> {
    let name = element.name.as_str();
    if let Some((attribute, _)) = element.attributes.first() {
        return Err(context.error(
            number::INVALID_ELEMENT,
            format!("The element '{name}' has invalid attribute '{attribute}': {name} takes no attributes."),
        ));
    }
    match tag.content {
        Content::Group(tags) => {
            if !element.value().is_empty() {
                return Err(context.error(
                    number::INVALID_VALUE,
                    format!("Invalid value for {name}: {name} holds tags, not text."),
                ));
            }
            check_children(element, tags, context, checked)
        }
        Content::Value(rule) => {
            if let Some(child) = element.children.first() {
                return Err(context.error(
                    number::INVALID_ELEMENT,
                    format!(
                        "The element '{name}' has invalid child element '{}': {name} holds a value, not tags.",
                        child.name
                    ),
                ));
            }
            let value = element.value();
            if value.is_empty() {
                if rule.min_length > 0 {
                    return Err(
                        context.error(number::MISSING_VALUE, format!("Missing value for {name}."))
                    );
                }
            } else {
                check_value(name, &value, rule, context)?;
            }
            checked.values.push((tag.name, value));
            Ok(())
        }
    }
}

fn check_value(
    name: &str,
    value: &str,
    rule: Rule,
    context: &Context<'_>,
) -> Result<(), WebToolsError> {
    let invalid = |problem: String| {
        context.error(
            number::INVALID_VALUE,
            format!("Invalid value for {name}: {problem}."),
        )
    };
    let length = value.chars().count();
    if let Some(max) = rule.max_length {
        if length > max {
            return Err(invalid(format!("it is longer than {max} characters")));
        }
    }
    if length < rule.min_length {
        return Err(invalid(format!(
            "it is shorter than {} characters",
            rule.min_length
        )));
    }
    match rule.format {
        Format::Text => Ok(()),
        Format::Digits(lengths) => {
            if lengths.contains(&value.len()) && value.bytes().all(|byte| byte.is_ascii_digit()) {
                Ok(())
            } else {
                let counts = match lengths {
                    [1] => "one digit".to_owned(),
                    _ => {
                        let counts: Vec<String> = lengths.iter().map(usize::to_string).collect();
                        format!("{} digits", counts.join(" or "))
                    }
                };
                Err(invalid(format!("'{value}' must be {counts}")))
            }
        }
        Format::TwoWordCharacters => {
            if value.chars().count() == 2 && value.chars().all(word_character) {
                Ok(())
            } else {
                Err(invalid(format!(
                    "'{value}' must be a two-letter abbreviation, e.g. DC"
                )))
            }
        }
        Format::Boolean => match value {
            "true" | "false" => Ok(()),
            _ => Err(invalid(format!("'{value}' must be true or false"))),
        },
        Format::Integer { min, max } => {
            let whole = value.strip_prefix('-').unwrap_or(value);
            if whole.is_empty() || !whole.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(invalid(format!("'{value}' must be a whole number")));
            }
            match value.parse::<i64>() {
                Ok(number) if (min..=max).contains(&number) => Ok(()),
                _ => Err(invalid(format!("'{value}' must be from {min} to {max}"))),
            }
        }
        Format::Dimension => match decimal(value) {
            Some(parsed) if parsed.digits > 10 => {
                Err(invalid(format!("'{value}' has more than 10 digits")))
            }
            Some(parsed) if parsed.value > 0.0 => Ok(()),
            _ => Err(invalid(format!(
                "'{value}' must be a number greater than 0"
            ))),
        },
        Format::Amount { max_cents } => match cents(value) {
            Some(amount) if amount <= max_cents => Ok(()),
            _ => Err(invalid(format!(
                "'{value}' must be an amount from 0 to {}.{:02} with at most two decimals",
                max_cents / 100,
                max_cents % 100
            ))),
        },
        Format::Enumeration(allowed) => {
            if allowed.contains(&value) {
                Ok(())
            } else {
                Err(invalid(format!(
                    "'{value}' must be one of: {}",
                    allowed.join(", ")
                )))
            }
        }
        Format::Email => {
            if email(value) {
                Ok(())
            } else {
                Err(invalid("it is not a valid email address".to_owned()))
            }
        }
        Format::Phone => {
            if value.len() == 10 && value.bytes().all(|byte| byte.is_ascii_digit()) {
                Ok(())
            } else {
                Err(invalid("it must be 10 digits".to_owned()))
            }
        }
        Format::ShipDate => {
            let Some(date) = ship_date(value) else {
                return Err(invalid(format!(
                    "'{value}' must be a date written dd-mmm-yyyy (14-Feb-2020) or mm/dd/yyyy (02/14/2020)"
                )));
            };
            if date < context.today || date > context.today + Duration::days(3) {
                return Err(invalid(format!(
                    "'{value}' must be today or up to 3 days ahead ({} to {})",
                    context.today.format("%m/%d/%Y"),
                    (context.today + Duration::days(3)).format("%m/%d/%Y")
                )));
            }
            Ok(())
        }
    }
}

/// `\w` (letters, digits, underscore, in any script).
fn word_character(character: char) -> bool {
    character.is_alphanumeric() || character == '_'
}

/// A decimal as XSD writes it: an optional sign, digits, an optional fraction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decimal {
    pub(crate) value: f64,
    /// Significant digits (leading zeros of the integer part and trailing zeros of the
    /// fraction do not count), as XSD `totalDigits` counts them.
    pub(crate) digits: usize,
}

pub(crate) fn decimal(text: &str) -> Option<Decimal> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let digits = whole.trim_start_matches('0').len() + fraction.trim_end_matches('0').len();
    let value = text.parse::<f64>().ok()?;
    Some(Decimal { value, digits })
}

/// Dollars with at most two decimals, in cents.
pub(crate) fn cents(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty()
        || fraction.len() > 2
        || !all_digits(whole)
        || !all_digits(fraction)
        || whole.len() > 12
    {
        return None;
    }
    let dollars: u64 = whole.parse().ok()?;
    let fraction_cents: u64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<2}").parse().ok()?
    };
    Some(dollars * 100 + fraction_cents)
}

/// `dd-mmm-yyyy` (month abbreviated in English, e.g. `14-Feb-2020`) or `mm/dd/yyyy`.
pub(crate) fn ship_date(text: &str) -> Option<NaiveDate> {
    let shaped = |pattern: &[u8]| {
        text.len() == pattern.len()
            && text
                .bytes()
                .zip(pattern)
                .all(|(byte, expected)| match expected {
                    b'9' => byte.is_ascii_digit(),
                    b'a' => byte.is_ascii_alphabetic(),
                    other => byte == *other,
                })
    };
    if shaped(b"99-aaa-9999") {
        NaiveDate::parse_from_str(text, "%d-%b-%Y").ok()
    } else if shaped(b"99/99/9999") {
        NaiveDate::parse_from_str(text, "%m/%d/%Y").ok()
    } else {
        None
    }
}

/// The guides' email pattern, anchored as XSD patterns are.
fn email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|character| word_character(character) || character == '-' || character == '.');
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((top, inner)) = labels.split_last() else {
        return false;
    };
    let top_ok = (2..=4).contains(&top.len()) && top.bytes().all(|byte| byte.is_ascii_alphabetic());
    let inner_ok = !inner.is_empty()
        && inner.iter().all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|character| word_character(character) || character == '-')
        });
    local_ok && top_ok && inner_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_follows_the_guides_pattern() {
        assert!(email("senderemail@email.com"));
        assert!(email("first.last-1@mail.example.co"));
        assert!(!email("no-at-sign.com"));
        assert!(!email("a@b"));
        assert!(!email("a@.com"));
        assert!(!email("a@b.toolong"));
        assert!(!email("a b@c.com"));
    }

    #[test]
    fn decimals_count_significant_digits() {
        assert_eq!(
            decimal("11"),
            Some(Decimal {
                value: 11.0,
                digits: 2
            })
        );
        assert_eq!(decimal("0.50").map(|parsed| parsed.digits), Some(1));
        assert_eq!(decimal("5.5.5"), None);
        assert_eq!(decimal("."), None);
        assert_eq!(decimal("1e3"), None);
    }

    #[test]
    fn amounts_become_cents_with_at_most_two_decimals() {
        assert_eq!(cents("100"), Some(10_000));
        assert_eq!(cents("100.5"), Some(10_050));
        assert_eq!(cents("0.07"), Some(7));
        assert_eq!(cents("1.005"), None);
        assert_eq!(cents("-1"), None);
    }

    #[test]
    fn ship_dates_are_read_in_both_documented_forms() {
        let expected = NaiveDate::from_ymd_opt(2020, 2, 14);
        assert_eq!(ship_date("14-Feb-2020"), expected);
        assert_eq!(ship_date("02/14/2020"), expected);
        assert_eq!(ship_date("2020-02-14"), None);
        assert_eq!(ship_date("2/14/2020"), None);
        assert_eq!(ship_date("30-Feb-2020"), None);
    }
}
