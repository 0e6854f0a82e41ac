//! The web side of the tests: programs that serve HTTP, the dashboard with
//! its viewer key, and headless Chromium driven through chromedriver.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, run_ok};

/// Starts a program that serves HTTP and waits until `ready` answers.
pub fn serve(cmd: &mut Command, ready: &str, what: &str) -> Child {
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    // Up once it answers at all: an answer of 401 is an answer.
    while matches!(ureq::get(ready).call(), Err(ureq::Error::Io(_) | ureq::Error::ConnectionFailed)) {
        assert!(Instant::now() < until, "{what} did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// A WebDriver session on headless Chromium, through chromedriver.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn open(test: &str) -> Option<Browser> {
        if Command::new("chromedriver").arg("--version").output().is_err() {
            println!("SKIPPED {test}: chromedriver is missing (tools/setup.sh installs chromium and chromium-driver)");
            return None;
        }
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let driver = serve(
            Command::new("chromedriver").arg(format!("--port={port}")),
            &format!("{base}/status"),
            "chromedriver",
        );
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}});
        let reply: serde_json::Value =
            ureq::post(&format!("{base}/session")).send_json(&caps).unwrap().body_mut().read_json().unwrap();
        let session = reply["value"]["sessionId"].as_str().expect("a WebDriver session").to_string();
        Some(Browser { driver, base, session, _profile: profile })
    }

    pub fn call(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        let reply: serde_json::Value = ureq::post(&url).send_json(&body).unwrap().body_mut().read_json().unwrap();
        reply["value"].clone()
    }

    pub fn go(&self, url: &str) {
        self.call("url", serde_json::json!({ "url": url }));
    }

    pub fn js(&self, script: &str) -> serde_json::Value {
        self.call("execute/sync", serde_json::json!({"script": script, "args": []}))
    }

    /// The window's outer size; what the page gets is `innerWidth` × `innerHeight`.
    pub fn resize(&self, width: u32, height: u32) {
        self.call("window/rect", serde_json::json!({ "width": width, "height": height }));
    }

    pub fn text(&self, id: &str) -> String {
        self.js(&format!("return document.getElementById('{id}').textContent")).as_str().unwrap_or_default().to_string()
    }

    pub fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let url = format!("{}/session/{}/screenshot", self.base, self.session);
        let reply: serde_json::Value = ureq::get(&url).call().unwrap().body_mut().read_json().unwrap();
        let png = base64::engine::general_purpose::STANDARD.decode(reply["value"].as_str().unwrap()).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `kiosk dashboard` in the background, stopped when dropped; `key` is
/// its viewer key, as `kiosk dashboard key` prints it.
pub struct Dashboard {
    child: Child,
    pub base: String,
    pub key: String,
}

impl Dashboard {
    /// `args` name the database (`--db`) or the ledger and the local copy.
    pub fn start(args: &[&str]) -> Dashboard {
        let listen = format!("127.0.0.1:{}", free_port());
        let base = format!("http://{listen}");
        let said = run_ok(&[&["dashboard", "key"], args, &["--listen", &listen]].concat());
        let link = said.lines().find_map(|l| l.strip_prefix("link for the secretariat: ")).expect("a link");
        assert!(link.starts_with(&format!("{base}/?key=")), "{said}");
        let key = link.rsplit('=').next().unwrap().to_string();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk"));
        cmd.arg("dashboard").args(args).args(["--listen", &listen]);
        let child = serve(&mut cmd, &format!("{base}/page.js"), "the dashboard");
        Dashboard { child, base, key }
    }

    /// A GET with the viewer key's cookie.
    pub fn get(&self, path: &str) -> ureq::http::Response<ureq::Body> {
        ureq::get(&format!("{}{path}", self.base)).header("Cookie", &format!("kiosk_view={}", self.key)).call().unwrap()
    }

    pub fn stats(&self) -> serde_json::Value {
        self.get("/api/stats").body_mut().read_json().unwrap()
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
