//! A throw-away PostgreSQL server for a test: `initdb` in a temporary folder,
//! on a free port, as the `postgres` user when the test runs as root (root
//! cannot run PostgreSQL). Stopped and deleted when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Cluster {
    dir: tempfile::TempDir,
    pub port: u16,
    /// Where it listens besides loopback (a test's network namespace).
    also: Option<String>,
    server: Option<Child>,
    /// Run as this user (root runs the server as `postgres`).
    run_as: Option<String>,
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    /// None, with a note saying why, where PostgreSQL is not installed.
    pub fn start(test: &str) -> Option<Cluster> {
        Self::start_listening(test, None)
    }

    /// A server that takes only TLS links from loopback (`hostssl`, others
    /// rejected), with `password` for the user `kiosk`, and the certificate
    /// and key in `certs` (as `tools/ledger-tls.sh` makes them).
    pub fn start_tls(test: &str, certs: &Path, password: &str) -> Option<Cluster> {
        let mut cluster = Self::init(test, None, Some(password))?;
        let data = cluster.dir.path().join("data");
        for file in ["server.crt", "server.key"] {
            std::fs::copy(certs.join(file), data.join(file)).unwrap();
            cluster.own(&data.join(file));
        }
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(&conf, text).unwrap();
        let hba = "hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n";
        std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        cluster.run();
        Some(cluster)
    }

    /// Also listening on `also` (an address of a test's own network namespace).
    pub fn start_listening(test: &str, also: Option<&str>) -> Option<Cluster> {
        let mut cluster = Self::init(test, also, None)?;
        if let Some(also) = also {
            // Let the namespace's side of the link in (its /24, nothing else).
            let net = also.rsplit_once('.').map(|(n, _)| format!("{n}.0/24")).unwrap();
            let hba = cluster.dir.path().join("data/pg_hba.conf");
            let mut text = std::fs::read_to_string(&hba).unwrap();
            text.push_str(&format!("host all all {net} trust\n"));
            std::fs::write(&hba, text).unwrap();
        }
        cluster.run();
        Some(cluster)
    }

    /// A file of the cluster's, given to the user the server runs as, readable by it alone.
    fn own(&self, path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        if let Some(user) = &self.run_as {
            assert!(Command::new("chown").arg(user).arg(path).status().unwrap().success());
        }
    }

    /// `initdb` (trust, or `password` for `kiosk` with SCRAM), not yet running.
    fn init(test: &str, also: Option<&str>, password: Option<&str>) -> Option<Cluster> {
        if !Path::new(BIN).join("initdb").exists() {
            println!("SKIPPED {test}: PostgreSQL 15 is not installed ({BIN}); tools/setup.sh installs it");
            return None;
        }
        let dir = tempfile::Builder::new().prefix("kiosk-pg").tempdir_in("/tmp").unwrap();
        let run_as = is_root().then(|| "postgres".to_string());
        if run_as.is_some() {
            let status = Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().unwrap();
            assert!(status.success(), "chown of the cluster's folder");
        }
        let cluster = Cluster { port: free_port(), dir, also: also.map(String::from), server: None, run_as };
        let data = cluster.data();
        let mut initdb = cluster.command("initdb");
        initdb.args(["-D", &data, "-U", "kiosk", "--no-sync", "-E", "UTF8", "--locale", "C"]);
        match password {
            Some(password) => {
                let file = cluster.dir.path().join("password");
                std::fs::write(&file, password).unwrap();
                cluster.own(&file);
                initdb.args(["-A", "scram-sha-256", "--pwfile"]).arg(&file);
            }
            None => {
                initdb.args(["-A", "trust"]);
            }
        }
        let out = initdb.output().unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn command(&self, program: &str) -> Command {
        let bin = PathBuf::from(BIN).join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(bin);
                c
            }
            None => Command::new(bin),
        }
    }

    /// Starts the server and waits until it takes connections; after a
    /// SIGKILL, waits for the old server's processes to let go first.
    pub fn run(&mut self) {
        let listen = match &self.also {
            Some(a) => format!("127.0.0.1,{a}"),
            None => "127.0.0.1".into(),
        };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
            let child = self
                .command("postgres")
                .args(["-D", &self.data(), "-p", &self.port.to_string(), "-k", &self.dir.path().to_string_lossy()])
                .args(["-c", &format!("listen_addresses={listen}"), "-c", "max_connections=200"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap();
            self.server = Some(child);
            if self.wait_ready(Duration::from_secs(10)) {
                return;
            }
            let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            self.stop_server();
            assert!(Instant::now() < until, "PostgreSQL did not start: {log}");
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn wait_ready(&mut self, within: Duration) -> bool {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Some(Ok(Some(_))) = self.server.as_mut().map(Child::try_wait) {
                return false;
            }
            // pg_isready asks without logging in: it serves TLS-only servers too.
            let ready = Command::new(PathBuf::from(BIN).join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", "2"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn url(&self) -> String {
        format!("postgresql://kiosk@127.0.0.1:{}/postgres", self.port)
    }

    /// The address a test's network namespace reaches it at.
    pub fn url_at(&self, host: &str) -> String {
        format!("postgresql://kiosk@{host}:{}/postgres", self.port)
    }

    fn postmaster_pid(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid")).ok()?;
        text.lines().next().map(str::to_string)
    }

    /// Every process of the server stops (SIGSTOP) or goes on (SIGCONT):
    /// a frozen server still takes TCP connections and then says nothing.
    pub fn signal_all(&self, signal: &str) {
        let pid = self.postmaster_pid().expect("a running server");
        let _ = Command::new("pkill").args([&format!("-{signal}"), "-P", &pid]).status();
        assert!(Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap().success());
    }

    /// The server dies at once, as in a power cut of its machine's process.
    pub fn kill9(&mut self) {
        let pid = self.postmaster_pid().expect("a running server");
        assert!(Command::new("kill").args(["-9", &pid]).status().unwrap().success());
        if let Some(mut c) = self.server.take() {
            let _ = c.wait();
        }
    }

    fn stop_server(&mut self) {
        if let Some(pid) = self.postmaster_pid() {
            // SIGINT: "fast" shutdown.
            let _ = Command::new("kill").args(["-INT", &pid]).status();
        }
        if let Some(mut c) = self.server.take() {
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls).expect("connects to the test server")
    }

    /// One number from a query.
    pub fn count(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).unwrap().get(0)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_server();
    }
}
