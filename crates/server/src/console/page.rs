//! The frame of every console page (skip link, header, navigation, sign-out form), the
//! stylesheet served from the binary, and small renderers shared by the pages.
//!
//! Plain and legible: system fonts, high contrast, a visible focus ring on everything that
//! takes focus, one column that reflows from 1280 px down to a phone's ~390 px (wide tables
//! scroll sideways inside their own box).

use accounts::AccountStatus;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use super::form;

/// The stylesheet (`GET /console/assets/console.css`).
const STYLESHEET: &str = include_str!("console.css");

/// `GET /console/assets/console.css`: the one stylesheet, cached for an hour.
pub async fn stylesheet() -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// Which navigation a page shows.
#[derive(Debug, Clone, Copy)]
pub enum Nav<'a> {
    /// Signed out (sign-in and error pages).
    None,
    Merchant {
        csrf: &'a str,
    },
    Admin {
        csrf: &'a str,
    },
}

/// A whole page.
pub fn render(status: StatusCode, title: &str, nav: Nav<'_>, body: Markup) -> Response {
    let links: &[(&str, &str)] = match nav {
        Nav::None => &[],
        Nav::Merchant { .. } => &[
            ("/console/accounts", "Carrier accounts"),
            ("/console/labels", "Return labels"),
            ("/console/labels/new", "Create a return label"),
            ("/console/webhooks", "Webhooks"),
        ],
        Nav::Admin { .. } => &[
            ("/console/admin/accounts", "All shipper accounts"),
            ("/console/admin/audit", "Audit trail"),
        ],
    };
    let csrf = match nav {
        Nav::None => None,
        Nav::Merchant { csrf } | Nav::Admin { csrf } => Some(csrf),
    };
    let role = match nav {
        Nav::None => None,
        Nav::Merchant { .. } => Some("Merchant"),
        Nav::Admin { .. } => Some("Administrator"),
    };
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Backhaul" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    div.bar {
                        a.brand href="/console" { "Backhaul" }
                        @if let Some(role) = role { span.role { (role) } }
                        @if let Some(csrf) = csrf {
                            form.sign-out method="post" action="/console/sign-out" {
                                (form::csrf(csrf))
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                    @if !links.is_empty() {
                        nav aria-label="Main" {
                            ul {
                                @for (href, text) in links {
                                    li { a href=(href) { (text) } }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    (body)
                }
            }
        }
    };
    (status, Html(markup.into_string())).into_response()
}

/// A page with one message and a way back.
pub fn message(status: StatusCode, title: &str, message: &str, back: &str) -> Response {
    render(
        status,
        title,
        Nav::None,
        html! {
            h1 { (title) }
            p { (message) }
            p { a href=(back) { "Back to the console" } }
        },
    )
}

/// A UTC time as people read it.
pub fn time(at: &DateTime<Utc>) -> Markup {
    html! {
        time datetime=(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
            (at.format("%Y-%m-%d %H:%M UTC"))
        }
    }
}

/// An optional time, or "never".
pub fn time_or_never(at: Option<&DateTime<Utc>>) -> Markup {
    match at {
        Some(at) => time(at),
        None => html! { span.muted { "Never" } },
    }
}

/// An account's status as a badge with words (never colour alone).
pub fn status(status: AccountStatus) -> Markup {
    let (class, text) = match status {
        AccountStatus::Active => ("ok", "Active"),
        AccountStatus::PendingDetails => ("warn", "Needs details"),
        AccountStatus::PendingVerification => ("warn", "Needs verifying"),
        AccountStatus::ReauthorizationRequired => ("bad", "Sign in again"),
        AccountStatus::Disabled => ("off", "Disabled"),
    };
    html! { span class={ "badge " (class) } { (text) } }
}

/// A text, or a muted dash when it is empty.
pub fn or_dash(text: &str) -> Markup {
    html! {
        @if text.is_empty() { span.muted { "—" } } @else { (text) }
    }
}

/// Tags as small chips.
pub fn tags(tags: &accounts::Tags) -> Markup {
    html! {
        @if tags.is_empty() {
            span.muted { "None" }
        } @else {
            ul.tags {
                @for (key, value) in tags { li { (key) ": " (value) } }
            }
        }
    }
}

/// A notice after a change (`?notice=…` of a redirect): only known codes show text.
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            div.alert.ok role="status" { p { (text) } }
        }
    }
}
