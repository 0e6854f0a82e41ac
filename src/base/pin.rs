//! The admin PIN: stored only as an Argon2 hash in the settings, checked
//! the same way by the kiosk's admin screen and the dashboard.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Error, Result};

/// Wrong PINs one client may enter before it is shut out.
pub const TRIES: u32 = 5;
/// How long a client that used up its tries is refused, the right PIN too.
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);

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

/// A PIN of four or more digits falls to anyone who may try them all:
/// this keeps count of wrong ones per client (an address, or the kiosk's
/// own screen) and shuts a client out after `TRIES`, for `LOCKOUT`.
#[derive(Debug, Default)]
pub struct PinGate {
    clients: HashMap<String, Tries>,
}

#[derive(Debug, Default)]
struct Tries {
    /// Counted when a try begins, so that tries sent all at once count too.
    used: u32,
    locked_until: Option<Instant>,
}

/// Why a try was refused before the PIN was even looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutOut {
    pub seconds_left: u64,
}

impl PinGate {
    /// Begins a try for `client`: refused while it is shut out, or while the
    /// tries it has in hand would make more than `TRIES`.
    pub fn begin(&mut self, client: &str, now: Instant) -> std::result::Result<(), ShutOut> {
        let tries = self.clients.entry(client.to_string()).or_default();
        if let Some(until) = tries.locked_until {
            if now < until {
                return Err(ShutOut { seconds_left: (until - now).as_secs().max(1) });
            }
            *tries = Tries::default();
        }
        if tries.used >= TRIES {
            return Err(ShutOut { seconds_left: LOCKOUT.as_secs() });
        }
        tries.used += 1;
        Ok(())
    }

    /// Ends a try begun with `begin`: a right PIN forgets the client's
    /// wrong ones; the last wrong one shuts it out. Returns the tries left.
    pub fn end(&mut self, client: &str, right: bool, now: Instant) -> u32 {
        if right {
            self.clients.remove(client);
            return TRIES;
        }
        let tries = self.clients.entry(client.to_string()).or_default();
        if tries.used >= TRIES {
            tries.locked_until = Some(now + LOCKOUT);
            return 0;
        }
        TRIES - tries.used
    }

    /// `begin`, the check and `end` in one, for a caller that may spend the
    /// Argon2 time where it stands.
    pub fn check(&mut self, client: &str, pin: &str, hash: &str, now: Instant) -> PinCheck {
        if let Err(out) = self.begin(client, now) {
            return PinCheck::ShutOut(out);
        }
        let right = verify_pin(pin, hash);
        match self.end(client, right, now) {
            _ if right => PinCheck::Right,
            left => PinCheck::Wrong { left },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinCheck {
    Right,
    /// `left` more tries before the client is shut out (0: it is now).
    Wrong {
        left: u32,
    },
    ShutOut(ShutOut),
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

    #[test]
    fn five_wrong_pins_shut_a_client_out_for_five_minutes_the_right_one_too() {
        let hash = hash_pin("2468").unwrap();
        let mut gate = PinGate::default();
        let t0 = Instant::now();
        for left in (0..TRIES).rev() {
            assert_eq!(gate.check("10.0.0.9", "1111", &hash, t0), PinCheck::Wrong { left });
        }
        let PinCheck::ShutOut(out) = gate.check("10.0.0.9", "2468", &hash, t0) else { panic!("shut out") };
        assert_eq!(out.seconds_left, LOCKOUT.as_secs());
        assert!(matches!(gate.check("10.0.0.9", "2468", &hash, t0 + LOCKOUT / 2), PinCheck::ShutOut(_)));
        // Another client is not shut out, and the lock ends.
        assert_eq!(gate.check("10.0.0.7", "2468", &hash, t0), PinCheck::Right);
        assert_eq!(gate.check("10.0.0.9", "2468", &hash, t0 + LOCKOUT), PinCheck::Right);
        // A right PIN forgets the wrong ones before it.
        for _ in 0..TRIES - 1 {
            gate.check("screen", "1111", &hash, t0);
        }
        assert_eq!(gate.check("screen", "2468", &hash, t0), PinCheck::Right);
        assert_eq!(gate.check("screen", "1111", &hash, t0), PinCheck::Wrong { left: TRIES - 1 });
    }

    #[test]
    fn tries_sent_all_at_once_are_counted_before_they_are_checked() {
        let mut gate = PinGate::default();
        let t0 = Instant::now();
        let begun = (0..100).filter(|_| gate.begin("10.0.0.9", t0).is_ok()).count();
        assert_eq!(begun, TRIES as usize, "only TRIES of a flood reach Argon2");
    }
}
