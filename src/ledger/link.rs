//! How a program reaches the ledger: the address with libpq's TLS words
//! (`sslmode`, `sslrootcert`), a password that need not be in the address
//! (where `ps` would show it), and the bounds on every step. The venue's
//! network is shared with strangers: templates and names cross it.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};
use tokio_postgres::config::SslMode as WireMode;

use crate::error::{Error, Result};
use crate::ledger::pg::{Pg, PgError};

/// The bounds and the password file of `[ledger]`, for every link this
/// program makes: set once by the command line from the settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkSettings {
    /// The TCP connection, the TLS handshake and the login, together.
    pub connect_seconds: f32,
    /// Each statement (and each row of a long read).
    pub statement_seconds: f32,
    /// A file holding only the ledger's password (mode 0600), used when the
    /// address and `PGPASSWORD` have none.
    pub password_file: PathBuf,
}

impl Default for LinkSettings {
    fn default() -> Self {
        Self { connect_seconds: 4.0, statement_seconds: 5.0, password_file: PathBuf::new() }
    }
}

static SETTINGS: OnceLock<LinkSettings> = OnceLock::new();

/// Every link made from now on uses these (the first call wins).
pub fn use_settings(settings: LinkSettings) {
    let _ = SETTINGS.set(settings);
}

fn settings() -> &'static LinkSettings {
    SETTINGS.get_or_init(LinkSettings::default)
}

/// libpq's `sslmode`. Without one, `prefer`, as libpq: encrypted when the
/// server offers TLS, not checked against any certificate authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(word: &str) -> Option<SslMode> {
        Some(match word {
            "disable" => SslMode::Disable,
            "prefer" | "allow" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn word(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A ledger's address, read.
#[derive(Debug, Clone)]
pub struct Address {
    config: tokio_postgres::Config,
    pub mode: SslMode,
    root_cert: Option<PathBuf>,
    passfile: Option<PathBuf>,
    /// Host, port and database, without the password: for messages.
    pub place: String,
}

/// The words of the address that are ours to read, not tokio-postgres's.
const OURS: [&str; 3] = ["sslmode", "sslrootcert", "passfile"];

impl Address {
    pub fn parse(url: &str) -> Result<Address> {
        let bad = |e: &dyn std::fmt::Display| {
            Error::Config(format!(
                "the ledger's address is not a PostgreSQL address ({e}); write it as \
                 postgresql://USER@HOST:PORT/DB[?sslmode=verify-full&sslrootcert=/etc/kiosk/ca.pem]"
            ))
        };
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let ours = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| !OURS.contains(&k.as_str())).collect();
        let rest = form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
        let theirs = if rest.is_empty() { base.to_string() } else { format!("{base}?{rest}") };
        let mut config = tokio_postgres::Config::from_str(&theirs).map_err(|e| bad(&e))?;
        let mode = match ours("sslmode") {
            None => SslMode::Prefer,
            Some(word) => SslMode::parse(&word).ok_or_else(|| {
                bad(&format!("sslmode={word}: use disable, prefer, require, verify-ca or verify-full"))
            })?,
        };
        config.ssl_mode(if mode == SslMode::Prefer {
            WireMode::Prefer
        } else if mode == SslMode::Disable {
            WireMode::Disable
        } else {
            WireMode::Require
        });
        let place = place(&config);
        config
            .application_name("kiosk")
            .tcp_user_timeout(Duration::from_secs(4))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(2))
            .keepalives_interval(Duration::from_secs(1))
            .keepalives_retries(2);
        let (root_cert, passfile) = (ours("sslrootcert").map(PathBuf::from), ours("passfile").map(PathBuf::from));
        Ok(Address { config, mode, root_cert, passfile, place })
    }

    /// Connects within the settings' bounds, with TLS as the address says
    /// and the password from wherever it is kept.
    pub fn connect(&self) -> Result<Pg> {
        let s = settings();
        let (connect, statement) =
            (Duration::from_secs_f32(s.connect_seconds), Duration::from_secs_f32(s.statement_seconds));
        let mut config = self.config.clone();
        config.connect_timeout(connect);
        if config.get_password().is_none()
            && let Some(password) = password(&config, self.passfile.clone())?
        {
            config.password(password);
        }
        let made = match self.mode {
            SslMode::Disable => Pg::connect(&config, tokio_postgres::NoTls, connect, statement),
            _ => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(self.tls()?);
                Pg::connect(&config, tls, connect, statement)
            }
        };
        made.map_err(|e| self.error(e))
    }

    fn tls(&self) -> Result<rustls::ClientConfig> {
        // ring has no post-quantum key exchange (hence deprecated); aws-lc-rs
        // would need cmake and double the build, for a link that lives for a
        // congress's few days.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS for the ledger: {e}")))?;
        // libpq: `require` with a CA certificate at hand checks the chain, as verify-ca.
        let checked = match (self.mode, &self.root_cert) {
            (SslMode::VerifyFull, _) => Some(true),
            (SslMode::VerifyCa, _) | (SslMode::Require, Some(_)) => Some(false),
            _ => None,
        };
        let chain = match checked {
            None => None,
            Some(_) => Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(self.roots()?), provider.clone())
                    .build()
                    .map_err(|e| Error::Config(format!("the ledger's CA certificate cannot be used: {e}")))?,
            ),
        };
        let verifier = Arc::new(Verifier { provider, chain, name_too: checked == Some(true) });
        Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth())
    }

    /// The certificate authorities of `sslrootcert` (libpq's default: ~/.postgresql/root.crt).
    fn roots(&self) -> Result<RootCertStore> {
        let path = self.root_cert.clone().or_else(|| home().map(|h| h.join(".postgresql/root.crt")));
        let Some(path) = path.filter(|p| p.is_file()) else {
            return Err(Error::Config(format!(
                "sslmode={} needs the certificate of the CA that signed the ledger's: add \
                 &sslrootcert=/etc/kiosk/ca.pem to the address (tools/ledger-tls.sh makes one)",
                self.mode.word()
            )));
        };
        let mut roots = RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(&path)
            .map_err(|e| Error::Config(format!("sslrootcert {}: {e}", path.display())))?;
        for cert in certs {
            let cert = cert.map_err(|e| Error::Config(format!("sslrootcert {}: {e}", path.display())))?;
            roots.add(cert).map_err(|e| Error::Config(format!("sslrootcert {}: {e}", path.display())))?;
        }
        if roots.is_empty() {
            return Err(Error::Config(format!("sslrootcert {} holds no PEM certificate", path.display())));
        }
        Ok(roots)
    }

    /// A failed connection, said the way an organiser can act on it.
    pub fn error(&self, e: PgError) -> Error {
        let place = &self.place;
        let said = e.to_string();
        let message = if let PgError::Silent { after } = e {
            format!(
                "the ledger at {place} did not answer within {} s: the server may be frozen or the link cut. \
                 Kiosks keep checking people in and send their check-ins when it is back.",
                after.as_secs_f32()
            )
        } else if said.contains("UnknownIssuer") || said.contains("BadSignature") {
            format!(
                "the ledger at {place} showed a certificate that no CA in sslrootcert signed (untrusted \
                 certificate): check sslrootcert, or make the server's certificate with tools/ledger-tls.sh"
            )
        } else if said.contains("NotValidForName") || said.contains("not valid for name") {
            format!(
                "the ledger's certificate is not made out to the host in the address, {place} (wrong host \
                 name): use the name the certificate was made for"
            )
        } else if said.contains("server does not support TLS") {
            format!(
                "the ledger at {place} does not offer TLS (server without TLS) and sslmode={} asks for it: \
                 turn ssl on in its postgresql.conf (tools/ledger-tls.sh prints the lines)",
                self.mode.word()
            )
        } else if said.contains("no encryption") {
            format!(
                "the ledger at {place} takes only encrypted links and sslmode=disable asks for none: \
                 use sslmode=verify-full with sslrootcert"
            )
        } else if said.contains("password missing") {
            format!(
                "the ledger at {place} asks for a password and none was found: set PGPASSWORD, \
                 [ledger] password_file, or a line in a password file (~/.pgpass, PGPASSFILE)"
            )
        } else if let Some(db) = e.as_db_error() {
            format!("the ledger at {place} refused: {} ({})", db.message(), db.code().code())
        } else if e.is_link() {
            format!(
                "cannot reach the ledger at {place} ({said}). Check that the server runs and the network is \
                 up; kiosks keep checking people in and send their check-ins when it is back."
            )
        } else {
            format!("the ledger at {place}: {said}")
        };
        // The message says all there is: the error itself would only repeat it.
        Error::Ledger { message, source: None }
    }
}

fn place(cfg: &tokio_postgres::Config) -> String {
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", cfg.get_dbname().unwrap_or("postgres"))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The password from outside the address: `PGPASSWORD`, then the settings'
/// `password_file`, then a libpq password file (`passfile=`, `PGPASSFILE`,
/// or ~/.pgpass), as libpq looks.
fn password(cfg: &tokio_postgres::Config, passfile: Option<PathBuf>) -> Result<Option<Vec<u8>>> {
    if let Some(p) = std::env::var_os("PGPASSWORD") {
        return Ok(Some(p.into_encoded_bytes()));
    }
    let file = &settings().password_file;
    if !file.as_os_str().is_empty() {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::Config(format!("ledger.password_file {}: {e} (a file holding only the password)", file.display()))
        })?;
        return Ok(Some(text.trim_end_matches(['\r', '\n']).as_bytes().to_vec()));
    }
    let path = passfile
        .or_else(|| std::env::var_os("PGPASSFILE").map(PathBuf::from))
        .or_else(|| home().map(|h| h.join(".pgpass")));
    Ok(path.and_then(|p| from_passfile(&p, cfg)))
}

/// The first line of a libpq password file that matches the address
/// (`host:port:database:user:password`, `*` for any, `\:` for a colon).
/// Like libpq, a file other users may read is not used.
fn from_passfile(path: &Path, cfg: &tokio_postgres::Config) -> Option<Vec<u8>> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!("{} is readable by other users: not used (chmod 600 it)", path.display());
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432).to_string();
    let wanted = [host.as_str(), port.as_str(), cfg.get_dbname().unwrap_or(""), cfg.get_user().unwrap_or("")];
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let fields = split_passfile_line(line);
        let [h, p, d, u, password] = fields.as_slice() else { return None };
        let fits = [h, p, d, u].iter().zip(wanted).all(|(field, want)| field.as_str() == "*" || field.as_str() == want);
        fits.then(|| password.as_bytes().to_vec())
    })
}

fn split_passfile_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().unwrap().extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// How the server's certificate is checked, by sslmode.
#[derive(Debug)]
struct Verifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    /// None (`prefer`, `require` without a CA): the link is encrypted
    /// against onlookers, but the server is taken as it says it is (libpq
    /// does the same). Otherwise signed by the CA in `sslrootcert`.
    chain: Option<Arc<WebPkiServerVerifier>>,
    /// `verify-full`: and made out to the host in the address.
    name_too: bool,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.name_too => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_keeps_libpqs_tls_words_for_itself() {
        let a = Address::parse(
            "postgresql://kiosk@db.hall:6543/congress?sslmode=verify-full&sslrootcert=/etc/kiosk/ca.pem",
        )
        .unwrap();
        assert_eq!((a.mode, a.place.as_str()), (SslMode::VerifyFull, "db.hall:6543/congress"));
        assert_eq!(a.root_cert.as_deref(), Some(Path::new("/etc/kiosk/ca.pem")));
        assert_eq!(Address::parse("postgresql://k@h/c").unwrap().mode, SslMode::Prefer);
        let e = Address::parse("postgresql://k@h/c?sslmode=sometimes").unwrap_err().to_string();
        assert!(e.contains("verify-full"), "{e}");
    }

    #[test]
    fn a_password_file_line_matches_the_address_with_stars_and_escapes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "# the congress\nother:5432:*:*:no\ndb.hall:*:congress:kiosk:s3cr\\:et\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let cfg = tokio_postgres::Config::from_str("postgresql://kiosk@db.hall:6543/congress").unwrap();
        assert_eq!(from_passfile(&file, &cfg), Some(b"s3cr:et".to_vec()));
        let stranger = tokio_postgres::Config::from_str("postgresql://kiosk@db.hall:6543/other").unwrap();
        assert_eq!(from_passfile(&file, &stranger), None);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(from_passfile(&file, &cfg), None, "readable by others: not used");
    }
}
