//! A real headless Chromium for the console's browser tests, driven over WebDriver
//! (`fantoccini`) through a `chromedriver` this harness starts on a free loopback port.
//!
//! The browser runs with a fresh profile, no network but loopback (background networking,
//! component updates and sync off), downloads saved to a directory of its own. Every wait is
//! bounded ([`WAIT`]); dropping the [`Browser`] ends its WebDriver session and stops the
//! chromedriver it started (and the Chromium in its process group), so a failing test leaves
//! nothing running.
//!
//! Debian's `chromium` and `chromium-driver` are expected at `/usr/bin/chromium` and
//! `/usr/bin/chromedriver`. When they are missing and the tests run as root, the harness runs
//! `.ci/install-browser` (once; the script takes a lock); otherwise it fails saying what to
//! install.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Map, Value, json};

/// How long any wait for the page may take.
pub const WAIT: Duration = Duration::from_secs(20);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The repository root (this package is `tests/`).
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn installed() -> bool {
    Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists()
}

/// Makes sure Chromium and chromedriver are there, installing them as root when they are not.
fn ensure_installed() {
    if installed() {
        return;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false);
    assert!(
        root,
        "the console's browser tests need headless Chromium and its WebDriver: \
         install Debian's `chromium` and `chromium-driver` (as root: bash .ci/install-browser)"
    );
    let status = Command::new("bash")
        .arg(repository().join(".ci/install-browser"))
        .status()
        .expect("running .ci/install-browser");
    assert!(
        status.success() && installed(),
        ".ci/install-browser could not install chromium and chromium-driver"
    );
}

/// Where the tests save their screenshots: `target/console-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository().join("target"));
    target.join("console-screenshots")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// A fresh, empty directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(prefix: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), free_port()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("creating a scratch directory");
        ScratchDir(path)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Headless Chromium under a chromedriver of its own.
#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    driver: Child,
    port: u16,
    session: Option<String>,
    downloads: ScratchDir,
    _profile: ScratchDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session at 1280×900.
    pub async fn start() -> Self {
        ensure_installed();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that Drop can stop it and the browser it started.
            .process_group(0)
            .spawn()
            .expect("starting chromedriver");
        let profile = ScratchDir::new("backhaul-chromium-profile");
        let downloads = ScratchDir::new("backhaul-chromium-downloads");
        let mut browser = Browser {
            client: connect(port, &profile.0, &downloads.0).await,
            driver,
            port,
            session: None,
            downloads,
            _profile: profile,
        };
        browser.session = browser.client.session_id().await.ok().flatten();
        browser
    }

    /// The directory downloads are saved to.
    pub fn downloads(&self) -> &Path {
        &self.downloads.0
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// Waits for the element at `css`.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// Waits for the element at `css` and clicks it.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Waits for the link with this exact text and follows it.
    pub async fn click_link(&self, text: &str) {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("waiting for the link {text:?}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking the link {text:?}: {e}"));
    }

    /// Replaces the value of the input at `css`.
    pub async fn fill(&self, css: &str, value: &str) {
        let input = self.find(css).await;
        input
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clearing {css}: {e}"));
        if !value.is_empty() {
            input
                .send_keys(value)
                .await
                .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
        }
    }

    /// Fills every `(css, value)` input in order.
    pub async fn fill_all(&self, inputs: &[(&str, &str)]) {
        for (css, value) in inputs {
            self.fill(css, value).await;
        }
    }

    /// From any console page: "Carrier accounts" → "Add carrier" → "Connect {carrier}" → the
    /// account's `name` → the carrier's sign-in, leaving the browser on the carrier's page.
    /// `shot` saves a screenshot of the console's connect page under that name.
    pub async fn start_login(&self, carrier: &str, name: &str, shot: Option<&str>) {
        self.click_link("Carrier accounts").await;
        self.wait_for_heading("Carrier accounts").await;
        self.click_link("Add carrier").await;
        self.wait_for_heading("Add carrier").await;
        self.click_link(&format!("Connect {carrier}")).await;
        self.wait_for_heading(&format!("Connect your {carrier} business account"))
            .await;
        self.fill("#f-name", name).await;
        if let Some(shot) = shot {
            self.screenshot(shot).await;
        }
        self.click("form[action$='/connect'] button").await;
        // The carrier's page: another origin, the simulator's.
        self.find("#username").await;
    }

    /// Fills the console's label form with the API.md example customer and parcel.
    pub async fn fill_label_form(&self, reference: &str) {
        self.fill_all(&[
            ("#f-from-address-first-name", "Jane"),
            ("#f-from-address-last-name", "Doe"),
            ("#f-from-address-street1", "1100 Wyoming St"),
            ("#f-from-address-street2", "Ste 150"),
            ("#f-from-address-city", "Saint Louis"),
            ("#f-from-address-state", "MO"),
            ("#f-from-address-zip5", "63118"),
            ("#f-parcel-weight-oz", "24"),
            ("#f-parcel-length-in", "10"),
            ("#f-parcel-width-in", "7"),
            ("#f-parcel-height-in", "4"),
            ("#f-reference", reference),
        ])
        .await;
    }

    /// Chooses the option with this value in the select at `css`.
    pub async fn choose(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value} in {css}: {e}"));
    }

    /// The value attribute of the input at `css`.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("reading {css}: {e}"))
            .unwrap_or_default()
    }

    /// The visible text of the element at `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading {css}: {e}"))
    }

    /// Waits until the element at `css` shows text containing `expected`; returns its text.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> String {
        let started = Instant::now();
        loop {
            let found = self.client.find(Locator::Css(css)).await;
            if let Ok(element) = found {
                if let Ok(text) = element.text().await {
                    if text.contains(expected) {
                        return text;
                    }
                }
            }
            if started.elapsed() > WAIT {
                let url = self.client.current_url().await.map(|u| u.to_string());
                let source = self.client.source().await.unwrap_or_default();
                panic!("{css} never showed {expected:?} (at {url:?}):\n{source}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page's heading is `title`.
    pub async fn wait_for_heading(&self, title: &str) {
        self.wait_for_text("h1", title).await;
    }

    /// The current URL.
    pub async fn url(&self) -> reqwest::Url {
        let url = self.client.current_url().await.expect("the current URL");
        reqwest::Url::parse(url.as_str()).expect("a URL")
    }

    /// Whether the element at `css` is displayed (CSS may hide it).
    pub async fn displayed(&self, css: &str) -> bool {
        self.find(css)
            .await
            .is_displayed()
            .await
            .unwrap_or_else(|e| panic!("checking {css}: {e}"))
    }

    /// Resizes the window (CSS pixels).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resizing the window");
    }

    /// Saves a screenshot of the whole page (the window grown to the page's height for it) as
    /// `target/console-screenshots/{name}.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let (width, height) = self
            .client
            .get_window_size()
            .await
            .expect("the window size");
        let measure =
            "return [Math.ceil(document.documentElement.scrollHeight), window.innerHeight]";
        let sizes = self
            .client
            .execute(measure, Vec::new())
            .await
            .expect("measuring the page");
        let page = sizes[0].as_u64().unwrap_or(height);
        let viewport = sizes[1].as_u64().unwrap_or(height);
        let full = (page + height.saturating_sub(viewport)).clamp(height, 8000);
        let grow = full > height;
        if grow {
            self.resize(to_u32(width), to_u32(full)).await;
        }
        let png = self.client.screenshot().await.expect("a screenshot");
        if grow {
            self.resize(to_u32(width), to_u32(height)).await;
        }
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("creating the screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("saving a screenshot");
        path
    }

    /// Presses Tab in the page; returns the focused element.
    pub async fn tab(&self) -> Element {
        self.client
            .active_element()
            .await
            .expect("the focused element")
            .send_keys("\u{E004}")
            .await
            .expect("pressing Tab");
        self.client
            .active_element()
            .await
            .expect("the focused element")
    }

    /// Waits for a finished download (not a hidden or `.crdownload` temporary) and returns its
    /// path.
    pub async fn downloaded(&self) -> PathBuf {
        let started = Instant::now();
        loop {
            let finished = std::fs::read_dir(self.downloads())
                .ok()
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .find(|path| {
                    // Chromium writes to a hidden `.com.google.Chrome.*` file or a
                    // `.crdownload` and renames it when the download completes.
                    let hidden = path
                        .file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with('.'));
                    !hidden
                        && path.extension().is_some_and(|ext| ext != "crdownload")
                        && !path.to_string_lossy().ends_with(".tmp")
                });
            if let Some(path) = finished {
                return path;
            }
            assert!(
                started.elapsed() < WAIT,
                "no download finished in {:?}",
                self.downloads()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

async fn connect(port: u16, profile: &Path, downloads: &Path) -> Client {
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-default-apps".to_owned(),
        "--no-first-run".to_owned(),
        "--no-default-browser-check".to_owned(),
        "--password-store=basic".to_owned(),
        "--window-size=1280,900".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let capabilities: Map<String, Value> = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": {"pageLoad": 30_000, "script": 10_000, "implicit": 0},
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": args,
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            },
        },
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    let webdriver = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    // chromedriver takes a moment to listen; the session request is retried until it does.
    loop {
        let attempt = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&webdriver)
            .await;
        match attempt {
            Ok(client) => return client,
            Err(_) if started.elapsed() < WAIT => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("no WebDriver session from chromedriver on {webdriver}: {error}"),
        }
    }
}

/// Ends the WebDriver session (so chromedriver closes Chromium) with a plain blocking request:
/// `Drop` cannot await.
fn end_session(port: u16, session: &str) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session) = &self.session {
            end_session(self.port, session);
        }
        // Then the process group this harness started: chromedriver and anything left of it.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
