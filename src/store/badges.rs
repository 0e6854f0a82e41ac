//! Delegate badges as the store knows them: only the SHA-256 of each token
//! ever issued, with its delegate and serial. A stolen file, or a kiosk's
//! copy, lists who has a badge but cannot make one: that takes the congress
//! key, which stays with the organisers (`secretariat::badges`).

use data_encoding::BASE32_NOPAD;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::store::{Store, Tx};

/// What a badge's QR code says before its token: the format, so that a
/// later format (or another program's QR code) is told apart.
pub const QR_PREFIX: &str = "KB1:";
/// Bytes of a token: 120 bits, 24 characters of base32.
pub const TOKEN_BYTES: usize = 15;

/// A badge token as read from a QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token(pub [u8; TOKEN_BYTES]);

impl Token {
    /// The QR code's text: ASCII in QR's alphanumeric set, 28 characters.
    pub fn qr_text(&self) -> String {
        format!("{QR_PREFIX}{}", BASE32_NOPAD.encode(&self.0))
    }

    /// None for any text that is not a badge of this format.
    pub fn parse(qr: &str) -> Option<Token> {
        let body = qr.trim().strip_prefix(QR_PREFIX)?;
        let bytes = BASE32_NOPAD.decode(body.as_bytes()).ok()?;
        Some(Token(bytes.try_into().ok()?))
    }

    /// What the store keeps.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.0))
    }
}

/// A badge the store knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub code: String,
    /// Reissued (a lost badge): this one is refused.
    pub replaced: bool,
}

impl Store {
    /// Whether any badge was ever issued in this file.
    pub fn badges_issued(&self) -> Result<bool> {
        self.value("SELECT EXISTS (SELECT 1 FROM badges)", [])
    }

    /// The badge whose token this is, if the store knows it.
    pub fn badge(&self, token: &Token) -> Result<Option<Badge>> {
        self.conn
            .query_row(
                "SELECT delegate_code, replaced_at IS NOT NULL FROM badges WHERE token_sha256 = ?1",
                [token.sha256()],
                |r| Ok(Badge { code: r.get(0)?, replaced: r.get(1)? }),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }
}

impl Tx<'_> {
    /// On the roster now (not removed).
    pub fn is_on_roster(&self, code: &str) -> Result<bool> {
        self.tx
            .query_row("SELECT COUNT(*) FROM delegates WHERE code = ?1 AND removed_at IS NULL", [code], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n > 0)
            .map_err(|e| self.fail(e))
    }

    /// The serial of the delegate's valid badge, if they have one.
    pub fn badge_serial(&self, code: &str) -> Result<Option<i64>> {
        self.tx
            .query_row("SELECT serial FROM badges WHERE delegate_code = ?1 AND replaced_at IS NULL", [code], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// The serial the delegate's next badge gets: one above any they had.
    pub fn next_badge_serial(&self, code: &str) -> Result<i64> {
        self.tx
            .query_row("SELECT COALESCE(MAX(serial), 0) + 1 FROM badges WHERE delegate_code = ?1", [code], |r| r.get(0))
            .map_err(|e| self.fail(e))
    }

    /// Records `token` as the delegate's badge `serial`; any earlier badge
    /// of theirs is replaced from now on. Audited.
    pub fn issue_badge(&mut self, code: &str, serial: i64, token: &Token) -> Result<()> {
        let replaced = self.execute(
            "UPDATE badges SET replaced_at = ?2 WHERE delegate_code = ?1 AND replaced_at IS NULL",
            params![code, self.now],
        )?;
        self.execute(
            "INSERT INTO badges (token_sha256, delegate_code, serial) VALUES (?1, ?2, ?3)",
            params![token.sha256(), code, serial],
        )?;
        let action = if replaced > 0 { "badge_reissued" } else { "badge_issued" };
        self.audit(action, &serde_json::json!({"code": code, "serial": serial}).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_survives_its_qr_text_and_nothing_else_parses() {
        let token = Token([7; TOKEN_BYTES]);
        let text = token.qr_text();
        assert_eq!(text.len(), QR_PREFIX.len() + 24);
        assert!(text.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ':'));
        assert_eq!(Token::parse(&text), Some(token));
        assert_eq!(Token::parse(&text[..text.len() - 1]), None, "one character short");
        assert_eq!(Token::parse(&text.replace("KB1", "KB2")), None, "another format");
        assert_eq!(Token::parse("https://example.org"), None);
        assert_ne!(Token([8; TOKEN_BYTES]).sha256(), token.sha256());
    }
}
