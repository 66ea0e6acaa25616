//! The web console as a browser without JavaScript talks to it, for tests of its HTTP
//! behaviour (sessions, CSRF, tenant isolation): forms posted by hand, the session cookie
//! carried by hand.

use reqwest::{Response, StatusCode, header};

use crate::{TestApp, hidden_fields};

/// A signed-in console session: its cookie and its CSRF token.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub base_url: String,
    pub client: reqwest::Client,
    /// `backhaul_console=…`, as the browser sends it back.
    pub cookie: String,
    pub csrf: String,
}

/// The `Location` of a redirect.
pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The `Set-Cookie` headers of a response for cookie `name`.
pub fn set_cookies(response: &Response, name: &str) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter(|value| value.starts_with(&format!("{name}=")))
        .map(str::to_owned)
        .collect()
}

/// The value of the hidden field `name` of a page.
pub fn hidden(page: &str, name: &str) -> Option<String> {
    hidden_fields(page)
        .into_iter()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value)
}

impl TestApp {
    /// Opens the sign-in page and posts `key` as the form does; returns the answer.
    pub async fn console_post_sign_in(&self, key: &str) -> Response {
        let form = self
            .client
            .get(self.url("/console/sign-in"))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        let cookie = set_cookies(&form, "backhaul_console_sign_in")
            .first()
            .and_then(|value| value.split(';').next())
            .map(str::to_owned)
            .expect("the sign-in form sets its token cookie");
        let page = form.text().await.unwrap();
        let token = hidden(&page, "csrf").expect("the sign-in form carries its token");
        self.client
            .post(self.url("/console/sign-in"))
            .header(header::COOKIE, cookie)
            .form(&[("csrf", token.as_str()), ("key", key)])
            .send()
            .await
            .unwrap()
    }

    /// Signs in to the console with `key`, as a browser does.
    pub async fn console_sign_in(&self, key: &str) -> ConsoleSession {
        let response = self.console_post_sign_in(key).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "signing in");
        let cookie = set_cookies(&response, "backhaul_console")
            .first()
            .and_then(|value| value.split(';').next())
            .map(str::to_owned)
            .expect("signing in sets the session cookie");
        let home = location(&response);
        let mut session = ConsoleSession {
            base_url: self.instance.base_url.clone(),
            client: self.client.clone(),
            cookie,
            csrf: String::new(),
        };
        let (status, page) = session.page(&home).await;
        assert_eq!(status, 200, "{home}: {page}");
        session.csrf = hidden(&page, "csrf").expect("pages carry the session's CSRF token");
        session
    }
}

impl ConsoleSession {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `GET` with the session (redirects are not followed).
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .header(header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// The status and HTML of a page.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Posts a form with `csrf` as its token (`None`: no token at all).
    pub async fn post_with(
        &self,
        path: &str,
        csrf: Option<&str>,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        self.client
            .post(self.url(path))
            .header(header::COOKIE, &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form as the console's own pages do, with the session's token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.post_with(path, Some(&self.csrf), fields).await
    }
}
