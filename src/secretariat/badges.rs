//! Issuing delegate badges. A badge's token is an HMAC of the delegate's code
//! and badge serial under the congress's badge key: printing a badge again
//! gives the same QR code, a reissue (a lost badge) a new one, and nobody
//! without the key can make one. The key lives in one file on the
//! organisers' machine; the store and the ledger keep only token hashes.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::base::private::write_private;
use crate::error::{Error, Result};
use crate::store::badges::{TOKEN_BYTES, Token};
use crate::store::{Store, Tx};

/// The `[badges]` settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BadgeConfig {
    /// The congress's badge key; empty = `badge.key` beside the database.
    /// Made on first use; keep it on the organisers' machine only.
    pub key_file: PathBuf,
    /// A delegate with no face enrolled who shows their badge: "desk" sends
    /// them to the help desk, "accept" checks them in on the badge alone.
    pub without_face: WithoutFace,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WithoutFace {
    #[default]
    Desk,
    Accept,
}

impl BadgeConfig {
    /// The key file for the database at `db`.
    pub fn key_path(&self, db: &Path) -> PathBuf {
        if self.key_file.as_os_str().is_empty() {
            db.parent().unwrap_or(Path::new(".")).join("badge.key")
        } else {
            self.key_file.clone()
        }
    }
}

/// The congress's badge key.
pub struct BadgeKey([u8; 32]);

const DOMAIN: &[u8] = b"kiosk badge v1\0";

impl BadgeKey {
    /// Reads the key at `path`, or makes one there (readable by its owner only).
    pub fn open_or_create(path: &Path) -> Result<BadgeKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
                bytes.map(BadgeKey).ok_or_else(|| {
                    Error::Input(format!(
                        "{} is not a badge key (64 hex digits). Restore it from the organisers' backup: \
                         badges printed with another key are refused",
                        path.display()
                    ))
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                write_private(path, &format!("{}\n", hex::encode(key)), false)?;
                tracing::info!("new badge key written to {}", path.display());
                Ok(BadgeKey(key))
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// The token of the delegate's badge `serial`.
    pub fn token(&self, code: &str, serial: i64) -> Token {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(DOMAIN);
        mac.update(code.as_bytes());
        mac.update(b"\0");
        mac.update(&serial.to_be_bytes());
        let full = mac.finalize().into_bytes();
        Token(full[..TOKEN_BYTES].try_into().expect("SHA-256 is longer than a token"))
    }
}

/// A delegate's badge, ready to print.
#[derive(Debug, Clone)]
pub struct Issued {
    pub code: String,
    pub serial: i64,
    pub token: Token,
}

/// The badges of `codes` (every delegate on the roster when empty): each
/// delegate's valid badge, issued now for those who have none.
pub fn issue(store: &mut Store, key: &BadgeKey, codes: &[String]) -> Result<Vec<Issued>> {
    let codes =
        if codes.is_empty() { store.delegates()?.into_iter().map(|d| d.code).collect() } else { codes.to_vec() };
    store.transaction(|tx| codes.iter().map(|code| badge_of(tx, key, code, false)).collect())
}

/// A new badge for a delegate who lost theirs: the old one is refused as replaced.
pub fn reissue(store: &mut Store, key: &BadgeKey, code: &str) -> Result<Issued> {
    store.transaction(|tx| badge_of(tx, key, code, true))
}

/// The delegate's valid badge; a new one when they have none, or when `anew`.
fn badge_of(tx: &mut Tx, key: &BadgeKey, code: &str, anew: bool) -> Result<Issued> {
    if !tx.is_on_roster(code)? {
        return Err(Error::Roster(format!("there is no delegate with code {code} on the roster")));
    }
    let kept = if anew { None } else { tx.badge_serial(code)? };
    let serial = match kept {
        Some(serial) => serial,
        None => tx.next_badge_serial(code)?,
    };
    let token = key.token(code, serial);
    if kept.is_none() {
        tx.issue_badge(code, serial, &token)?;
    }
    Ok(Issued { code: code.to_string(), serial, token })
}
