//! The generic Web Tools `<Error>` document (Web Tools Developer Guide v4.5, "Error Handling"):
//! `Number`, `Source`, `Description`, `HelpFile`, `HelpContext`. Web Tools answers failures
//! with it under HTTP 200, as the whole document or nested inside a response ("Errors that are
//! further down in the hierarchy also follow the above format"), and "there is not a compendium
//! of error messages": the `Description` is what the merchant needs to see.
//!
//! | `<Error>` | [`carrier::CarrierError`] |
//! |---|---|
//! | authorization failure: `Number` `80040B1A` (or its decimal form `-2147218662`), or a `Description` saying the user ID, password or API permission was refused | `Unauthenticated` |
//! | `Number` `80004005` (COM's `E_FAIL`, "unspecified error": Web Tools failed before answering) | `Unavailable` |
//! | anything else (address, validation, enrollment …) | `Rejected`, one message per `<Error>`: `code` = `Number`, `message` = `Description`, `field` = the request tag `Source` names, if any |

use carrier::CarrierMessage;

use super::Element;
use super::request::TAGS;
use crate::client::Reply;
use crate::error::{Error, Operation};

/// `Number`s that mean the user ID or password was refused (`80040B1A`: "Authorization failure.
/// Perhaps username and/or password is incorrect.", also sent when the user ID lacks the API's
/// permission).
const AUTHORIZATION_FAILURES: &[&str] = &["80040B1A"];

/// Phrases of authorization failures whose `Number` is not one of the above.
const AUTHORIZATION_PHRASES: &[&str] = &[
    "authorization failure",
    "not authorized",
    "username and/or password",
    "invalid user id",
    "invalid userid",
    "invalid password",
];

/// `Number`s of failures inside Web Tools rather than in the request (`80004005`, `E_FAIL`). The
/// reply is an `<Error>` instead of a label, so no label was made: safe to send again.
const SYSTEM_FAILURES: &[&str] = &["80004005"];

/// One `<Error>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorDocument {
    pub(crate) number: String,
    pub(crate) source: Option<String>,
    pub(crate) description: String,
    pub(crate) help_file: Option<String>,
    pub(crate) help_context: Option<String>,
}

impl ErrorDocument {
    fn from_element(element: &Element) -> Self {
        Self {
            number: element.collapsed("Number").unwrap_or_default(),
            source: element.collapsed("Source"),
            description: element.collapsed("Description").unwrap_or_default(),
            help_file: element.collapsed("HelpFile"),
            help_context: element.collapsed("HelpContext"),
        }
    }

    /// `Number` as eight upper-case hex digits when it is a COM error code in either form
    /// (`80040B1A`, `-2147218662`); otherwise as sent.
    pub(crate) fn normalized_number(&self) -> String {
        let number = self.number.trim();
        // Failure HRESULTs have the top bit set, so their signed decimal form is negative;
        // `80004005` is hex already, although it is all digits.
        if number.starts_with('-') {
            if let Ok(decimal) = number.parse::<i32>() {
                return format!("{:08X}", u32::from_ne_bytes(decimal.to_ne_bytes()));
            }
        }
        number.to_ascii_uppercase()
    }

    /// Whether USPS refused the credentials rather than the request.
    pub(crate) fn is_authorization_failure(&self) -> bool {
        let description = self.description.to_ascii_lowercase();
        AUTHORIZATION_FAILURES.contains(&self.normalized_number().as_str())
            || AUTHORIZATION_PHRASES
                .iter()
                .any(|phrase| description.contains(phrase))
    }

    /// Whether Web Tools failed inside, rather than refusing the request.
    pub(crate) fn is_system_failure(&self) -> bool {
        SYSTEM_FAILURES.contains(&self.normalized_number().as_str())
    }

    /// The request tag `Source` names, if it names one (`CustomerZip5`,
    /// `USPSReturnsLabelRequest/CustomerZip5`); component paths such as
    /// `clsEMI.ValidateParameters` name none.
    pub(crate) fn field(&self) -> Option<String> {
        let source = self.source.as_deref()?;
        source
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find(|token| TAGS.contains(token))
            .map(str::to_owned)
    }

    fn into_message(self) -> CarrierMessage {
        let field = self.field();
        CarrierMessage {
            code: self.number.trim().to_owned(),
            message: self.description,
            field,
        }
    }
}

/// Every `<Error>` in the document, the root included, depth first.
pub(crate) fn find(root: &Element) -> Vec<ErrorDocument> {
    let mut found = Vec::new();
    root.descendants_named("Error", &mut found);
    found.into_iter().map(ErrorDocument::from_element).collect()
}

/// The failure a list of `<Error>`s (at least one) stands for.
pub(crate) fn classify(operation: Operation, errors: Vec<ErrorDocument>) -> Error {
    let authorization = errors.iter().any(ErrorDocument::is_authorization_failure);
    let system = errors.iter().all(ErrorDocument::is_system_failure);
    let messages = errors
        .into_iter()
        .map(ErrorDocument::into_message)
        .collect();
    if authorization {
        Error::WebToolsAuthorization {
            operation,
            messages,
        }
    } else if system {
        Error::WebToolsUnavailable {
            operation,
            messages,
        }
    } else {
        Error::WebTools {
            operation,
            messages,
        }
    }
}

/// Classifies a reply with an error status (Web Tools itself answers 200; a proxy or an outage
/// answers otherwise). An `<Error>` body lends its messages.
pub(crate) fn from_status(operation: Operation, reply: &Reply) -> Error {
    let messages = super::parse_document(&reply.body)
        .map(|root| {
            find(&root)
                .into_iter()
                .map(ErrorDocument::into_message)
                .collect()
        })
        .unwrap_or_default();
    Error::Status {
        operation,
        status: reply.status.as_u16(),
        messages,
        retry_after: reply.retry_after(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webtools::parse_document;
    use carrier::{CarrierError, ErrorKind};

    fn classified(xml: &str) -> CarrierError {
        let root = parse_document(xml.as_bytes()).unwrap();
        let errors = find(&root);
        assert!(!errors.is_empty());
        classify(Operation::WebToolsReturnLabel, errors).into()
    }

    /// The Developer Guide's example, verbatim in shape.
    const GUIDE_EXAMPLE: &str = r#"<?xml version="1.0"?>
<Error>
  <Number>-2147217951</Number>
  <Source>EMI_Respond :EMI:clsEMI.ValidateParameters:
          clsEMI.ProcessRequest;SOLServerIntl.EMI_Respond</Source>
  <Description>Missing value for To Phone number.</Description>
  <HelpFile></HelpFile>
  <HelpContext>1000440</HelpContext>
</Error>"#;

    #[test]
    fn the_guide_example_reads_every_field() {
        let root = parse_document(GUIDE_EXAMPLE.as_bytes()).unwrap();
        let errors = find(&root);
        assert_eq!(
            errors,
            vec![ErrorDocument {
                number: "-2147217951".into(),
                source: Some(
                    "EMI_Respond :EMI:clsEMI.ValidateParameters: clsEMI.ProcessRequest;SOLServerIntl.EMI_Respond"
                        .into()
                ),
                description: "Missing value for To Phone number.".into(),
                help_file: None,
                help_context: Some("1000440".into()),
            }]
        );
        assert_eq!(errors[0].field(), None);
    }

    #[test]
    fn an_error_document_at_the_root_is_a_rejection_with_the_usps_text() {
        match classified(GUIDE_EXAMPLE) {
            CarrierError::Rejected {
                status, messages, ..
            } => {
                assert_eq!(status, None);
                assert_eq!(
                    messages,
                    vec![CarrierMessage {
                        code: "-2147217951".into(),
                        message: "Missing value for To Phone number.".into(),
                        field: None,
                    }]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_error_nested_in_the_response_is_a_rejection() {
        let error = classified(
            "<USPSReturnsLabelResponse><Error><Number>-2147219401</Number>\
             <Source>USPSReturnsLabelRequest/CustomerZip5</Source>\
             <Description>Address Not Found.</Description><HelpFile/><HelpContext/></Error>\
             </USPSReturnsLabelResponse>",
        );
        match error {
            CarrierError::Rejected { messages, .. } => {
                assert_eq!(messages[0].code, "-2147219401");
                assert_eq!(messages[0].message, "Address Not Found.");
                assert_eq!(messages[0].field.as_deref(), Some("CustomerZip5"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_authorization_failure_is_unauthenticated() {
        let error = classified(
            "<Error><Number>80040B1A</Number><Description>Authorization failure.  Perhaps \
             username and/or password is incorrect.</Description><Source>UspsCom::DoAuth</Source></Error>",
        );
        assert_eq!(error.kind(), ErrorKind::Unauthenticated);
        assert!(
            error.to_string().contains("Authorization failure"),
            "{error}"
        );
    }

    #[test]
    fn the_decimal_form_of_80040b1a_is_an_authorization_failure() {
        let error = classified(
            "<Error><Number>-2147218662</Number><Description>Access denied.</Description></Error>",
        );
        assert_eq!(error.kind(), ErrorKind::Unauthenticated);
    }

    #[test]
    fn an_api_permission_failure_is_unauthenticated() {
        let error = classified(
            "<USPSReturnsLabelResponse><Error><Number>80040B1B</Number><Description>API \
             Authorization failure. User 123ABCD456 is not authorized to use API \
             USPSReturnsLabel.</Description></Error></USPSReturnsLabelResponse>",
        );
        assert_eq!(error.kind(), ErrorKind::Unauthenticated);
    }

    #[test]
    fn numbers_are_compared_in_hex() {
        let number = |number: &str| ErrorDocument {
            number: number.into(),
            source: None,
            description: String::new(),
            help_file: None,
            help_context: None,
        };
        assert_eq!(number("-2147218662").normalized_number(), "80040B1A");
        assert_eq!(number("80004005").normalized_number(), "80004005");
        assert_eq!(number("80040b1a").normalized_number(), "80040B1A");
    }

    #[test]
    fn an_unspecified_web_tools_failure_is_unavailable() {
        let error = classified(
            "<Error><Number>80004005</Number><Source>USPSCOM::DoAuth</Source>\
             <Description>Unspecified error</Description></Error>",
        );
        assert_eq!(error.kind(), ErrorKind::Unavailable);
    }

    #[test]
    fn every_error_of_a_document_becomes_a_message() {
        let error = classified(
            "<USPSReturnsLabelResponse><Error><Number>1</Number><Description>One.</Description>\
             </Error><Error><Number>2</Number><Description>Two.</Description></Error>\
             </USPSReturnsLabelResponse>",
        );
        match error {
            CarrierError::Rejected { messages, .. } => assert_eq!(messages.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
