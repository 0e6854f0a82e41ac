//! The admin PIN: stored only as an Argon2 hash in the settings, checked
//! the same way by the kiosk's admin screen and the dashboard.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Error, Result};

/// The PHC string to put in `kiosk.admin_pin_hash`.
pub fn hash_pin(pin: &str) -> Result<String> {
    if pin.len() < 4 || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::Config("the admin PIN must be at least 4 digits".into()));
    }
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| Error::Config(format!("cannot make a salt: {e}")))?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Config(format!("cannot hash the PIN: {e}")))
}

/// False for a wrong PIN, and when no (or a malformed) hash is configured.
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(pin.as_bytes(), &h).is_ok())
}

/// Whether `hash` can open the admin screen at all: empty or mangled, no PIN can.
pub fn pin_is_set(hash: &str) -> bool {
    PasswordHash::new(hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_pin_opens() {
        let hash = hash_pin("2468").unwrap();
        assert!(!hash.contains("2468"));
        assert!(verify_pin("2468", &hash));
        assert!(!verify_pin("2469", &hash));
        assert!(!verify_pin("2468", ""), "no PIN configured: admin stays locked");
        assert!(pin_is_set(&hash) && !pin_is_set("") && !pin_is_set("2468"));
        assert!(hash_pin("12a4").is_err() && hash_pin("12").is_err());
    }
}
