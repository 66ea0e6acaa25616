//! The consent page, "Login with UPS": `GET /security/v1/oauth/authorize` (OAuthAuthCode.yaml
//! `AuthorizeClient`) and the form it posts back to the same path.
//!
//! UPS answers the GET with a 302 to its login site, which later redirects to the app; the
//! simulator stands in for that site with one plain HTML page (no JavaScript): login name,
//! password, Approve and Decline.
//!
//! Query parameters, as the spec lists them: `client_id`, `redirect_uri`, `response_type`
//! (required; `code` is the only valid value), `state` and `scope` (optional), and
//! `code_challenge` (optional: "Base64 URL-Encoded SHA256 value of Code Verifier", so 43
//! base64url characters). `code_challenge_method` is not in the spec; the simulator accepts it
//! absent or `S256` (the only transform the spec describes) and refuses `plain` or anything
//! else. Parameters the spec does not list are ignored (an OpenAPI parameter list does not
//! forbid others); a repeated one is refused. Refusals before the redirect URI is trusted are
//! the spec's JSON `tokenErrorResponse`: 401 for an unknown `client_id`, 400 otherwise.
//!
//! The form (`POST`) carries the request back with `username`, `password` and `decision`:
//! `approve` with a configured user's credentials answers 302 to
//! `redirect_uri?code=…&state=…`; `decline` answers 302 to
//! `redirect_uri?error=access_denied&state=…`; wrong credentials re-render the page (200).
//! A code is single-use, lives 5 minutes (the spec is silent), and is bound to the client, the
//! redirect URI, the challenge and the user.

use std::sync::Arc;

use axum::extract::{RawQuery, State as Extract};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use chrono::Duration;

use crate::config::AppConfig;
use crate::error::{UpsError, code};
use crate::oauth::{form_pairs, take};
use crate::state::{AUTHORIZATION_CODE_SECONDS, CodeGrant, State, random_token};

/// The path of the page and its form.
const PATH: &str = "/security/v1/oauth/authorize";

pub(crate) use sim_kit::html::escape as escape_html;

const STYLE: &str = "body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#222}\
header{background:#351c15;color:#ffb500;padding:.75rem 1rem;font-weight:bold}\
label{display:block;margin-top:.75rem}input[type=text],input[type=password]{width:100%;padding:.4rem}\
.error{background:#fde8e8;border:1px solid #c00;padding:.5rem;margin-top:1rem}\
.buttons{margin-top:1.25rem;display:flex;gap:1rem}button{padding:.5rem 1.25rem}";

fn page(title: &str, body: &str) -> String {
    sim_kit::html::page(title, STYLE, "Login with UPS (simulator)", body)
}

/// An HTML error page with `status` (for faults on this route).
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>Authorization request refused</h1>\n<p class=\"error\">{}</p>",
        escape_html(message)
    );
    (status, Html(page("Authorization error", &body))).into_response()
}

/// The parameters of an authorization request, carried through the form.
#[derive(Clone, Default)]
struct AuthorizationRequest {
    client_id: String,
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
}

// The state and challenge are the client's secrets-in-transit; keep them out of logs.
impl std::fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field(
                "code_challenge",
                &self.code_challenge.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
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
    fields.push_str(&hidden("response_type", "code"));
    for (name, value) in [
        ("scope", &request.scope),
        ("state", &request.state),
        ("code_challenge", &request.code_challenge),
    ] {
        if let Some(value) = value {
            fields.push_str(&hidden(name, value));
        }
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
        "<h1>Log in to connect {app_name}</h1>\n\
         <p>{app_name} is asking to create shipments and labels with your UPS account.</p>\n{error}\
         <form method=\"post\" action=\"{PATH}\">\n{fields}\
         <label for=\"username\">Username</label>\n\
         <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\">\n\
         <label for=\"password\">Password</label>\n\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">\n\
         <div class=\"buttons\">\n\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"decline\">Decline</button>\n\
         </div>\n</form>"
    );
    (StatusCode::OK, Html(page("Login with UPS", &body))).into_response()
}

/// 302 to `redirect_uri` with `pairs` appended to its query.
fn redirect(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return UpsError::bad_request(code::INVALID_REQUEST, "redirect_uri is not a valid URI")
            .into_response();
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

fn invalid(message: impl Into<String>) -> UpsError {
    UpsError::bad_request(code::INVALID_REQUEST, message)
}

/// Whether `challenge` can be Base64URL(SHA256(…)): 43 unpadded base64url characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Reads and checks the request parameters, from the query (GET) or the form (POST).
fn parse_request<'a>(
    state: &'a State,
    pairs: &mut Vec<(String, String)>,
) -> Result<(&'a AppConfig, AuthorizationRequest), UpsError> {
    let client_id = take(pairs, "client_id").ok_or_else(|| invalid("client_id is required"))?;
    let app = state.config.app(&client_id).ok_or_else(|| {
        UpsError::new(
            StatusCode::UNAUTHORIZED,
            code::INVALID_CLIENT,
            format!("ClientId is Invalid: {client_id} is not a registered application"),
        )
    })?;
    let redirect_uri =
        take(pairs, "redirect_uri").ok_or_else(|| invalid("redirect_uri is required"))?;
    if !app.accepts_redirect(&redirect_uri) {
        return Err(invalid(format!(
            "redirect_uri {redirect_uri} does not match a redirect URI registered for {}",
            app.name
        )));
    }
    match take(pairs, "response_type").as_deref() {
        Some("code") => {}
        Some(other) => {
            return Err(invalid(format!(
                "response_type {other} is not valid; the valid value is code"
            )));
        }
        None => return Err(invalid("response_type is required")),
    }
    let code_challenge = take(pairs, "code_challenge");
    match take(pairs, "code_challenge_method").as_deref() {
        None | Some("S256") => {}
        Some(other) => {
            return Err(invalid(format!(
                "code_challenge_method {other} is not supported; code_challenge must be \
                 BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) (S256)"
            )));
        }
    }
    if let Some(challenge) = &code_challenge {
        if !is_s256_challenge(challenge) {
            return Err(invalid(
                "code_challenge must be the Base64 URL-encoded SHA256 of the code verifier \
                 (43 characters of A-Z, a-z, 0-9, - and _)",
            ));
        }
    }
    let request = AuthorizationRequest {
        client_id,
        redirect_uri,
        scope: take(pairs, "scope"),
        state: take(pairs, "state"),
        code_challenge,
    };
    Ok((app, request))
}

/// `GET /security/v1/oauth/authorize`.
pub(crate) async fn show(
    Extract(state): Extract<Arc<State>>,
    RawQuery(query): RawQuery,
) -> Response {
    let parsed = form_pairs(query.unwrap_or_default().as_bytes())
        .and_then(|mut pairs| parse_request(&state, &mut pairs));
    match parsed {
        Ok((app, request)) => consent_page(app, &request, None),
        Err(error) => error.into_response(),
    }
}

/// `POST /security/v1/oauth/authorize`: the consent form.
pub(crate) async fn decide(Extract(state): Extract<Arc<State>>, body: Bytes) -> Response {
    let mut pairs = match form_pairs(&body) {
        Ok(pairs) => pairs,
        Err(error) => return error.into_response(),
    };
    let username = take(&mut pairs, "username").unwrap_or_default();
    let password = take(&mut pairs, "password").unwrap_or_default();
    let decision = take(&mut pairs, "decision");
    let (app, request) = match parse_request(&state, &mut pairs) {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let state_pair = request.state.as_deref().map(|value| ("state", value));
    match decision.as_deref() {
        Some("decline") => {
            tracing::info!(client_id = %app.client_id, "consent declined");
            let mut pairs = vec![("error", "access_denied")];
            pairs.extend(state_pair);
            redirect(&request.redirect_uri, &pairs)
        }
        Some("approve") => {
            let user = state
                .config
                .user(&username)
                .filter(|user| user.password == password);
            let Some(user) = user else {
                tracing::info!(client_id = %app.client_id, "login failed on the consent page");
                return consent_page(
                    app,
                    &request,
                    Some("The username or password is incorrect."),
                );
            };
            let code = random_token(32);
            state.oauth().codes.insert(
                code.clone(),
                CodeGrant {
                    client_id: app.client_id.clone(),
                    redirect_uri: request.redirect_uri.clone(),
                    username: user.username.clone(),
                    scope: request.scope.clone().unwrap_or_default(),
                    code_challenge: request.code_challenge.clone(),
                    expires_at: state.now() + Duration::seconds(AUTHORIZATION_CODE_SECONDS),
                },
            );
            tracing::info!(client_id = %app.client_id, username = %user.username, pkce = request.code_challenge.is_some(), "consent approved; authorization code issued");
            let mut pairs = vec![("code", code.as_str())];
            pairs.extend(state_pair);
            redirect(&request.redirect_uri, &pairs)
        }
        _ => consent_page(app, &request, Some("Choose Approve or Decline.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_html("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }

    #[test]
    fn only_43_base64url_characters_make_an_s256_challenge() {
        assert!(is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
        assert!(!is_s256_challenge("short"));
    }

    #[test]
    fn debug_of_a_request_hides_state_and_challenge() {
        let request = AuthorizationRequest {
            state: Some("csrf-secret".to_owned()),
            code_challenge: Some("challenge-secret".to_owned()),
            ..AuthorizationRequest::default()
        };
        let shown = format!("{request:?}");
        assert!(!shown.contains("csrf-secret") && !shown.contains("challenge-secret"));
    }
}
