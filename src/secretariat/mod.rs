//! The organisers' side: the roster and its photos go in (enrolment), the
//! attendance lists come out (exports), and the event itself is described.

pub mod badge_sheet;
pub mod badges;
pub mod demo;
pub mod enroll;
pub mod export;
pub mod hall;
pub mod lookup;
pub mod papers;
pub mod pdf;
pub mod roster;
pub mod workbook;

use serde::{Deserialize, Serialize};

use crate::settings::within;
use crate::store::time::Zone;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventConfig {
    pub name: String,
    pub session: String,
    pub kiosk_id: String,
    /// Shown on the idle screen; relative paths are taken from the kiosk's folder.
    pub logo: std::path::PathBuf,
    /// The congress's time zone, e.g. "Asia/Ho_Chi_Minh"; empty = this machine's.
    pub time_zone: String,
    /// The quorum: more than this percentage of the summoned delegates must
    /// be present (a Vietnamese union congress: more than half).
    pub quorum_above_percent: f64,
    /// Who signs the credentials report (`kiosk report`), in order.
    pub signatures: Vec<papers::Signatory>,
    /// The issuing bodies, top down, for the papers' document header
    /// ("TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM", "CÔNG ĐOÀN …"); empty: no header.
    pub issuer: Vec<String>,
    /// Where the papers are signed ("Hà Nội"), before their date.
    pub place: String,
    /// The hall's blocks, aisles, stage and entrances (`hall.rs`); empty:
    /// the plan is drawn from the seat codes alone.
    pub hall_layout: std::path::PathBuf,
}

impl Default for EventConfig {
    fn default() -> Self {
        Self {
            name: "Đại hội Công đoàn — Congress".into(),
            session: "Phiên khai mạc".into(),
            kiosk_id: "kiosk-1".into(),
            logo: "assets/logo.png".into(),
            time_zone: String::new(),
            quorum_above_percent: 50.0,
            signatures: vec![papers::Signatory {
                role: "Trưởng ban Thẩm tra tư cách đại biểu".into(),
                name: String::new(),
            }],
            issuer: Vec::new(),
            place: String::new(),
            hall_layout: std::path::PathBuf::new(),
        }
    }
}

impl EventConfig {
    pub fn check(&self) -> Result<(), String> {
        within("event.kiosk_id length", self.kiosk_id.chars().count(), 1..=64)?;
        within("event.name length", self.name.chars().count(), 0..=300)?;
        if let Some(problem) = crate::store::session_name_problem(&self.session) {
            return Err(format!("event.session: {problem}"));
        }
        within("event.quorum_above_percent", self.quorum_above_percent, 0.0..=99.9)?;
        within("event.issuer lines", self.issuer.len(), 0..=4)?;
        for line in &self.issuer {
            within("event.issuer line length", line.chars().count(), 1..=200)?;
        }
        within("event.place length", self.place.chars().count(), 0..=100)?;
        self.zone().map(|_| ())
    }

    /// Whether `present` of `summoned` meet the quorum.
    pub fn quorum_met(&self, present: usize, summoned: usize) -> bool {
        summoned > 0 && present as f64 * 100.0 > self.quorum_above_percent * summoned as f64
    }

    /// The fewest present who meet the quorum, by the same rule: where the
    /// arrivals chart draws its line.
    pub fn quorum_needs(&self, summoned: usize) -> usize {
        (1..=summoned).find(|&n| self.quorum_met(n, summoned)).unwrap_or(summoned)
    }

    pub fn zone(&self) -> Result<Zone, String> {
        Zone::parse(&self.time_zone).map_err(|e| format!("event.time_zone: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quorum_needs_the_fewest_who_meet_the_rule() {
        let event = EventConfig::default();
        assert_eq!(event.quorum_needs(300), 151, "more than half of 300");
        assert_eq!(event.quorum_needs(301), 151);
        assert!(event.quorum_met(151, 300) && !event.quorum_met(150, 300));
    }
}
