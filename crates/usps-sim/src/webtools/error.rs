//! The Web Tools `<Error>` document (Web Tools developer guide v4.5, "Error Handling"):
//!
//! ```xml
//! <?xml version="1.0" encoding="UTF-8"?>
//! <Error><Number>…</Number><Source>…</Source><Description>…</Description><HelpFile></HelpFile><HelpContext>…</HelpContext></Error>
//! ```
//!
//! sent with HTTP 200 and `Content-Type: text/xml` (only injected faults change the status).
//! Every document carries all five tags, in the guide's order.
//!
//! Numbers:
//!
//! | number | when | documented by |
//! |---|---|---|
//! | `80040B19` | the `XML` parameter is missing or not well-formed XML | USPS's live `USPSCOM::DoAuth` reply |
//! | `80040B1A` | unknown `API`; wrong `USERID`/`PASSWORD`; a user not authorized for the API | USPS's live `USPSCOM::DoAuth` replies |
//! | `-2147217951` | a required value is empty ("Missing value for …") | the developer guide's example |
//! | `-2147219081` | a tag or attribute that is not in the table here (unknown or wrong case), or the wrong root | simulator |
//! | `-2147219082` | a tag out of the documented order, or repeated | simulator |
//! | `-2147219083` | a required tag is absent | simulator |
//! | `-2147219084` | a value breaks its type, pattern, enumeration, length or range | simulator |
//! | `-2147219085` | values that are valid alone but not together | simulator |
//! | `80004005` | an injected `status` or `rate_limit` fault | simulator |
//!
//! The Returns Label guides list no error numbers; the simulator's numbers follow the negative
//! style of the developer guide's example, one per kind of violation, so that a client can tell
//! them apart. Descriptions name the tag and the problem. Descriptions never carry the `USERID`
//! or `PASSWORD`: a client may log them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::escape::escape;

/// Error numbers.
pub(crate) mod number {
    /// XML syntax error (not well-formed, or no `XML` parameter).
    pub(crate) const SYNTAX: &str = "80040B19";
    /// Authorization failure: API name, credentials or API permission.
    pub(crate) const AUTHORIZATION: &str = "80040B1A";
    /// A required value is empty.
    pub(crate) const MISSING_VALUE: &str = "-2147217951";
    /// An unknown tag or attribute (including a wrong case), or the wrong root element.
    pub(crate) const INVALID_ELEMENT: &str = "-2147219081";
    /// A tag out of order or repeated.
    pub(crate) const ELEMENT_ORDER: &str = "-2147219082";
    /// A required tag is absent.
    pub(crate) const MISSING_ELEMENT: &str = "-2147219083";
    /// A value breaks its type, pattern, enumeration, length or range.
    pub(crate) const INVALID_VALUE: &str = "-2147219084";
    /// Values that are not valid together.
    pub(crate) const INVALID_COMBINATION: &str = "-2147219085";
    /// An injected fault (COM's `E_FAIL`).
    pub(crate) const FAULT: &str = "80004005";
}

/// `Source` of the authorization layer's errors, as USPS sends it.
const DO_AUTH: &str = "USPSCOM::DoAuth";
/// `HelpContext` of validation errors, as in the developer guide's example.
const VALIDATION_HELP_CONTEXT: &str = "1000440";

/// Marks a response that carries an `<Error>` document, so that counters count it as an error
/// although its status is 200.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ErrorDocument;

/// One `<Error>` document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WebToolsError {
    pub(crate) number: &'static str,
    pub(crate) source: String,
    pub(crate) description: String,
    pub(crate) help_context: &'static str,
    status: StatusCode,
}

impl WebToolsError {
    fn do_auth(number: &'static str, description: impl Into<String>) -> Self {
        Self {
            number,
            source: DO_AUTH.to_owned(),
            description: description.into(),
            help_context: "",
            status: StatusCode::OK,
        }
    }

    /// `80040B19`: no `XML` parameter, or XML that does not parse.
    pub(crate) fn syntax() -> Self {
        Self::do_auth(
            number::SYNTAX,
            "XML Syntax Error: Please check the XML request to see if it can be parsed.(B)",
        )
    }

    /// `80040B19` for a `POST` whose body is not a form.
    pub(crate) fn not_a_form() -> Self {
        Self::do_auth(
            number::SYNTAX,
            "XML Syntax Error: Please check the XML request to see if it can be parsed.(B) A POST must send API and XML as an application/x-www-form-urlencoded form.",
        )
    }

    /// `80040B1A` for an `API` value that is not a Web Tools API of this simulator.
    pub(crate) fn unknown_api(api: &str) -> Self {
        Self::do_auth(
            number::AUTHORIZATION,
            format!("API Authorization failure. {api} is not a valid API name for this protocol."),
        )
    }

    /// `80040B1A` for a request without an `API` parameter.
    pub(crate) fn missing_api() -> Self {
        Self::do_auth(
            number::AUTHORIZATION,
            "API Authorization failure. The request has no API parameter; expected API=USPSReturnsLabel or API=USPSReturnsLabelCertify.",
        )
    }

    /// `80040B1A` for an unknown `USERID` or a wrong `PASSWORD` (USPS's text, two spaces and all).
    pub(crate) fn authorization() -> Self {
        Self::do_auth(
            number::AUTHORIZATION,
            "Authorization failure.  Perhaps username and/or password is incorrect.",
        )
    }

    /// `80040B1A` for a user without permission for `api`. USPS names the user; the simulator
    /// does not, since a user ID is a credential and clients log error descriptions.
    pub(crate) fn not_authorized(api: &str) -> Self {
        Self::do_auth(
            number::AUTHORIZATION,
            format!("API Authorization failure. User is not authorized to use API {api}."),
        )
    }

    /// A validation error of `api`'s request.
    pub(crate) fn validation(
        number: &'static str,
        api: &str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            number,
            source: api.to_owned(),
            description: description.into(),
            help_context: VALIDATION_HELP_CONTEXT,
            status: StatusCode::OK,
        }
    }

    /// An injected fault answered with `status`.
    pub(crate) fn fault(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            number: number::FAULT,
            source: "usps-sim".to_owned(),
            description: description.into(),
            help_context: "",
            status,
        }
    }

    /// The document, with its XML declaration.
    pub(crate) fn to_xml(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Number>{}</Number><Source>{}</Source><Description>{}</Description><HelpFile></HelpFile><HelpContext>{}</HelpContext></Error>",
            self.number,
            escape(self.source.as_str()),
            escape(self.description.as_str()),
            self.help_context
        )
    }
}

/// `text/xml`, as Web Tools answers.
pub(crate) fn xml_content_type() -> HeaderValue {
    HeaderValue::from_static("text/xml; charset=utf-8")
}

impl IntoResponse for WebToolsError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, xml_content_type())],
            self.to_xml(),
        )
            .into_response();
        response.extensions_mut().insert(ErrorDocument);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_document_has_the_five_tags_in_the_guides_order() {
        let xml = WebToolsError::validation(
            number::MISSING_VALUE,
            "USPSReturnsLabel",
            "Missing value for CustomerCity & <State>.",
        )
        .to_xml();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Number>-2147217951</Number><Source>USPSReturnsLabel</Source><Description>Missing value for CustomerCity &amp; &lt;State&gt;.</Description><HelpFile></HelpFile><HelpContext>1000440</HelpContext></Error>"
        );
    }
}
