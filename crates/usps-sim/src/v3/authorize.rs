//! The consent page: `GET` and `POST /oauth2/v3/authorize`, the first leg of the
//! authorization-code flow (oauth2.yaml `/authorize`, RFC 6749 section 4.1).
//!
//! USPS's real `/authorize` is a POST that needs the Customer Registration sign-in cookie; the
//! simulator stands in for the whole USPS customer-onboarding experience with one plain HTML
//! page (no JavaScript): sign-in (username, password), the consent checkbox
//! "I authorize &lt;app&gt; to access my USPS business account", and Approve / Deny buttons.
//!
//! `GET /oauth2/v3/authorize?client_id=…&redirect_uri=…&response_type=code&scope=…&state=…`
//! validates the client and the redirect URI first; when either is wrong it shows an HTML error
//! page (400) and never redirects. Once the redirect URI is trusted, other problems redirect
//! back with `error=` (`invalid_request` for an unrecognized parameter — the schema is
//! `additionalProperties: false` —, `unsupported_response_type`, `invalid_scope`).
//!
//! `POST /oauth2/v3/authorize` (form) with `decision=approve`, the right credentials and the
//! box ticked answers `303 See Other` to `redirect_uri?code=<8 alphanumerics>&state=<state>`;
//! `decision=deny` answers 303 to `redirect_uri?error=access_denied&state=<state>`; wrong
//! credentials or an unticked box re-render the page (200) with an error message.
//!
//! PKCE (RFC 7636) is not in oauth2.yaml; the simulator supports it the way an RFC 7636 server
//! does, because Backhaul sends it to USPS (see `carrier-usps`'s `authorize_url`):
//! `code_challenge` (43 base64url characters: `BASE64URL(SHA256(verifier))`) with
//! `code_challenge_method=S256` binds the issued code to that challenge, and the token request
//! must then prove it with the `code_verifier`. `plain` (or a challenge without its method,
//! which RFC 7636 reads as `plain`) is refused with `invalid_request`, as OAuth 2.1 has it.

use std::sync::Arc;

use axum::extract::{RawQuery, State as Extract};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use chrono::Duration;

use crate::config::AppConfig;
use crate::state::{AUTHORIZATION_CODE_SECONDS, CodeGrant, State, random_token};

pub(crate) use sim_kit::html::escape as escape_html;

const STYLE: &str = "body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#222}\
header{background:#333366;color:#fff;padding:.75rem 1rem;font-weight:bold}\
label{display:block;margin-top:.75rem}input[type=text],input[type=password]{width:100%;padding:.4rem}\
.consent{display:flex;gap:.5rem;align-items:flex-start;margin-top:1rem}.consent label{margin:0}\
.error{background:#fde8e8;border:1px solid #c00;padding:.5rem;margin-top:1rem}\
.buttons{margin-top:1.25rem;display:flex;gap:1rem}button{padding:.5rem 1.25rem}";

fn page(title: &str, body: &str) -> String {
    sim_kit::html::page(title, STYLE, "USPS Customer Onboarding (simulator)", body)
}

/// An HTML error page with `status`.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>Authorization request refused</h1>\n<p class=\"error\">{}</p>",
        escape_html(message)
    );
    (status, Html(page("Authorization error", &body))).into_response()
}

/// The parameters of an authorization request, as carried through the consent form.
#[derive(Clone, Debug, Default)]
struct AuthorizationRequest {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scope: Option<String>,
    state: Option<String>,
    /// `code_challenge` (S256) of a PKCE request.
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

fn consent_page(app: &AppConfig, request: &AuthorizationRequest, error: Option<&str>) -> Response {
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
            escape_html(value)
        )
    };
    let mut fields = hidden("client_id", &request.client_id);
    fields.push_str(&hidden("redirect_uri", &request.redirect_uri));
    fields.push_str(&hidden("response_type", &request.response_type));
    if let Some(scope) = &request.scope {
        fields.push_str(&hidden("scope", scope));
    }
    if let Some(state) = &request.state {
        fields.push_str(&hidden("state", state));
    }
    if let Some(challenge) = &request.code_challenge {
        fields.push_str(&hidden("code_challenge", challenge));
    }
    if let Some(method) = &request.code_challenge_method {
        fields.push_str(&hidden("code_challenge_method", method));
    }
    let error = error
        .map(|message| {
            format!(
                "<p class=\"error\" role=\"alert\">{}</p>\n",
                escape_html(message)
            )
        })
        .unwrap_or_default();
    let app_name = escape_html(&app.name);
    let body = format!(
        "<h1>Sign in to authorize {app_name}</h1>\n\
         <p>{app_name} is asking for access to your USPS business account: your CRIDs, Mailer IDs, \
         payment accounts and permits, to create return labels on your behalf.</p>\n{error}\
         <form method=\"post\" action=\"/oauth2/v3/authorize\">\n{fields}\
         <label for=\"username\">Username</label>\n\
         <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\">\n\
         <label for=\"password\">Password</label>\n\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">\n\
         <div class=\"consent\"><input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\">\n\
         <label for=\"consent\">I authorize {app_name} to access my USPS business account</label></div>\n\
         <div class=\"buttons\">\n\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n\
         </div>\n</form>"
    );
    (StatusCode::OK, Html(page("Sign in to USPS", &body))).into_response()
}

/// `redirect_uri` with `pairs` appended to its query.
fn redirect(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(StatusCode::BAD_REQUEST, "redirect_uri is not a valid URI");
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
}

fn redirect_error(request: &AuthorizationRequest, error: &str, description: &str) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    redirect(&request.redirect_uri, &pairs)
}

/// Parameters of a query string or form, refusing repeats.
fn pairs(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw) {
        if seen.iter().any(|(existing, _)| existing == key.as_ref()) {
            return Err(format!("{key} is included more than once"));
        }
        seen.push((key.into_owned(), value.into_owned()));
    }
    Ok(seen)
}

fn take(pairs: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let index = pairs.iter().position(|(key, _)| key == name)?;
    Some(pairs.remove(index).1)
}

/// Validates client and redirect URI; the error page comes back when either is wrong.
fn trusted_request<'a>(
    state: &'a State,
    pairs: &mut Vec<(String, String)>,
) -> Result<(&'a AppConfig, AuthorizationRequest), Box<Response>> {
    let client_id = take(pairs, "client_id")
        .ok_or_else(|| Box::new(error_page(StatusCode::BAD_REQUEST, "client_id is required")))?;
    let app = state.config.app(&client_id).ok_or_else(|| {
        Box::new(error_page(
            StatusCode::BAD_REQUEST,
            &format!("client_id {client_id} is not a registered application"),
        ))
    })?;
    let redirect_uri = take(pairs, "redirect_uri").ok_or_else(|| {
        Box::new(error_page(
            StatusCode::BAD_REQUEST,
            "redirect_uri is required",
        ))
    })?;
    if !app.accepts_redirect(&redirect_uri) {
        return Err(Box::new(error_page(
            StatusCode::BAD_REQUEST,
            &format!(
                "redirect_uri {redirect_uri} does not match the redirect URI registered for {}",
                app.name
            ),
        )));
    }
    let request = AuthorizationRequest {
        client_id,
        redirect_uri,
        response_type: take(pairs, "response_type").unwrap_or_else(|| "code".to_owned()),
        scope: take(pairs, "scope"),
        state: take(pairs, "state"),
        code_challenge: take(pairs, "code_challenge"),
        code_challenge_method: take(pairs, "code_challenge_method"),
    };
    Ok((app, request))
}

/// Whether `challenge` can be Base64URL(SHA256(…)): 43 unpadded base64url characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks what may be reported back by redirect: response type, PKCE and scope.
fn check_request(app: &AppConfig, request: &AuthorizationRequest) -> Result<(), Box<Response>> {
    if request.response_type != "code" {
        return Err(Box::new(redirect_error(
            request,
            "unsupported_response_type",
            "response_type must be code",
        )));
    }
    match (
        &request.code_challenge,
        request.code_challenge_method.as_deref(),
    ) {
        (None, None) => {}
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {}
        (Some(_), Some("S256")) => {
            return Err(Box::new(redirect_error(
                request,
                "invalid_request",
                "code_challenge must be BASE64URL(SHA256(code_verifier)): 43 base64url characters",
            )));
        }
        (None, Some(_)) => {
            return Err(Box::new(redirect_error(
                request,
                "invalid_request",
                "code_challenge_method was sent without a code_challenge",
            )));
        }
        (Some(_), _) => {
            return Err(Box::new(redirect_error(
                request,
                "invalid_request",
                "code_challenge_method must be S256; the plain method is not supported",
            )));
        }
    }
    if let Some(scope) = &request.scope {
        if let Some(outside) = scope
            .split_whitespace()
            .find(|part| !app.scopes.iter().any(|allowed| allowed == part))
        {
            return Err(Box::new(redirect_error(
                request,
                "invalid_scope",
                &format!("Scope {outside} is not granted to this client"),
            )));
        }
    }
    Ok(())
}

/// `GET /oauth2/v3/authorize`.
pub(crate) async fn show(
    Extract(state): Extract<Arc<State>>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut pairs = match pairs(query.unwrap_or_default().as_bytes()) {
        Ok(pairs) => pairs,
        Err(message) => return error_page(StatusCode::BAD_REQUEST, &message),
    };
    let (app, request) = match trusted_request(&state, &mut pairs) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    if !pairs.is_empty() {
        let names: Vec<&str> = pairs.iter().map(|(key, _)| key.as_str()).collect();
        return redirect_error(
            &request,
            "invalid_request",
            &format!("Unrecognized parameter(s): {}", names.join(", ")),
        );
    }
    if let Err(response) = check_request(app, &request) {
        return *response;
    }
    consent_page(app, &request, None)
}

/// `POST /oauth2/v3/authorize`.
pub(crate) async fn decide(Extract(state): Extract<Arc<State>>, body: Bytes) -> Response {
    let mut pairs = match pairs(&body) {
        Ok(pairs) => pairs,
        Err(message) => return error_page(StatusCode::BAD_REQUEST, &message),
    };
    let (app, request) = match trusted_request(&state, &mut pairs) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let username = take(&mut pairs, "username").unwrap_or_default();
    let password = take(&mut pairs, "password").unwrap_or_default();
    let consent = take(&mut pairs, "consent");
    let decision = take(&mut pairs, "decision");
    if !pairs.is_empty() {
        let names: Vec<&str> = pairs.iter().map(|(key, _)| key.as_str()).collect();
        return redirect_error(
            &request,
            "invalid_request",
            &format!("Unrecognized parameter(s): {}", names.join(", ")),
        );
    }
    if let Err(response) = check_request(app, &request) {
        return *response;
    }
    match decision.as_deref() {
        Some("deny") => {
            tracing::info!(client_id = %app.client_id, "consent denied");
            redirect_error(&request, "access_denied", "The user denied the request")
        }
        Some("approve") => {
            let user = state
                .config
                .user(&username)
                .filter(|user| user.password == password);
            let Some(user) = user else {
                tracing::info!(client_id = %app.client_id, "sign-in failed on the consent page");
                return consent_page(
                    app,
                    &request,
                    Some("The username or password is incorrect."),
                );
            };
            if consent.as_deref() != Some("yes") {
                return consent_page(
                    app,
                    &request,
                    Some(&format!(
                        "Tick \"I authorize {} to access my USPS business account\" to approve.",
                        app.name
                    )),
                );
            }
            let code = random_token(8);
            let scope = request
                .scope
                .clone()
                .filter(|scope| !scope.trim().is_empty())
                .map(|scope| scope.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|| app.scopes.join(" "));
            state.oauth().codes.insert(
                code.clone(),
                CodeGrant {
                    client_id: app.client_id.clone(),
                    redirect_uri: request.redirect_uri.clone(),
                    username: user.username.clone(),
                    scope,
                    expires_at: state.now() + Duration::seconds(AUTHORIZATION_CODE_SECONDS),
                    code_challenge: request.code_challenge.clone(),
                },
            );
            tracing::info!(client_id = %app.client_id, username = %user.username, pkce = request.code_challenge.is_some(), "consent approved; authorization code issued");
            let mut pairs = vec![("code", code.as_str())];
            if let Some(state) = &request.state {
                pairs.push(("state", state));
            }
            redirect(&request.redirect_uri, &pairs)
        }
        _ => consent_page(app, &request, Some("Choose Approve or Deny.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_43_base64url_characters_make_an_s256_challenge() {
        assert!(is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"
        ));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }

    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_html("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }
}
