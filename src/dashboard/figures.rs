//! The figures the secretariat watches: present out of summoned, the quorum,
//! the same by delegation, the latest check-ins and the kiosks. One value,
//! served as JSON (`/api/stats`), pushed to the page, and drawn into it.

use serde::Serialize;

use crate::error::Result;
use crate::ledger::KioskStatus;
use crate::secretariat::EventConfig;
use crate::store::time::Zone;
use crate::store::{Method, Store, overall, percent};

/// How many check-ins the page lists.
const LATEST: usize = 12;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub session: String,
    pub present: usize,
    pub summoned: usize,
    pub quorum_percent: f64,
    pub quorum_met: bool,
    /// The rule, for the page: "more than 50%".
    pub quorum_above_percent: f64,
    pub by_delegation: Vec<ByDelegation>,
    pub kiosks: Vec<Kiosk>,
    pub latest: Vec<Latest>,
    /// True on a shared ledger (kiosks report there), false on a single file.
    pub shared: bool,
    /// False when the page reads a ledger it cannot reach now (its figures
    /// are then those of its last contact); always true for a single file.
    pub ledger_online: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByDelegation {
    pub delegation: String,
    pub present: usize,
    pub summoned: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kiosk {
    pub id: String,
    pub online: bool,
    pub waiting: i64,
    pub last_seen: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latest {
    pub code: String,
    pub name: String,
    pub delegation: String,
    /// On the congress's clock, "08:12".
    pub time: String,
    pub method: Method,
}

impl Figures {
    pub fn read(
        store: &Store,
        session: &str,
        event: &EventConfig,
        zone: &Zone,
        kiosks: Option<&[KioskStatus]>,
    ) -> Result<Figures> {
        // A misspelt session must not show as an empty hall.
        store.require_session(session)?;
        let counts = store.counts_by_delegation(session)?;
        let (present, summoned) = overall(&counts);
        let latest = store
            .latest_check_ins(session, LATEST)?
            .into_iter()
            .map(|a| Latest {
                code: a.code,
                name: a.name,
                delegation: a.delegation,
                time: zone.clock(&a.at),
                method: a.method,
            })
            .collect();
        Ok(Figures {
            session: session.into(),
            present,
            summoned,
            quorum_percent: (percent(present, summoned) * 10.0).round() / 10.0,
            quorum_met: event.quorum_met(present, summoned),
            quorum_above_percent: event.quorum_above_percent,
            by_delegation: counts
                .into_iter()
                .map(|c| ByDelegation { delegation: c.delegation, present: c.present, summoned: c.total })
                .collect(),
            kiosks: kiosks
                .unwrap_or_default()
                .iter()
                .map(|k| Kiosk {
                    id: k.id.clone(),
                    online: k.online,
                    waiting: k.waiting,
                    last_seen: k.last_seen.clone(),
                })
                .collect(),
            latest,
            shared: kiosks.is_some(),
            ledger_online: true,
        })
    }
}
