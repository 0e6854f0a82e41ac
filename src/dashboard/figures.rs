//! The figures the secretariat watches: present out of summoned, the quorum,
//! the same by delegation, the latest check-ins and the kiosks. One value,
//! served as JSON (`/api/stats`), pushed to the page, and drawn into it.

use serde::Serialize;

use crate::error::Result;
use crate::ledger::KioskStatus;
use crate::secretariat::EventConfig;
use crate::store::time::{Timestamp, Zone};
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
    /// The fewest present who meet it.
    pub quorum_needed: usize,
    pub by_delegation: Vec<ByDelegation>,
    pub kiosks: Vec<Kiosk>,
    pub latest: Vec<Latest>,
    /// How many of those present arrived in each minute, on the congress's
    /// clocks, earliest first (minutes nobody arrived in are left out).
    pub arrivals: Vec<Arrival>,
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
pub struct Arrival {
    /// "08:12"; "16/10 08:12" when the session runs over several days.
    pub minute: String,
    pub present: usize,
}

/// Arrival times counted by the minute, on `zone`'s clocks.
fn by_minute(times: &[Timestamp], zone: &Zone) -> Vec<Arrival> {
    let local: Vec<_> = times.iter().map(|t| zone.local(t).0).collect();
    let one_day = local.first().map(|f| f.date_naive()) == local.last().map(|l| l.date_naive());
    let format = if one_day { "%H:%M" } else { "%d/%m %H:%M" };
    let mut out: Vec<Arrival> = Vec::new();
    for t in local {
        let minute = t.format(format).to_string();
        match out.last_mut() {
            Some(last) if last.minute == minute => last.present += 1,
            _ => out.push(Arrival { minute, present: 1 }),
        }
    }
    out
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
            quorum_needed: event.quorum_needs(summoned),
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
            arrivals: by_minute(&store.arrival_times(session)?, zone),
            shared: kiosks.is_some(),
            ledger_online: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_are_counted_by_the_minute_on_the_congress_clocks() {
        let zone = Zone::parse("Asia/Ho_Chi_Minh").unwrap();
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let times = [
            at("2026-11-28T01:12:03.000+00:00"),
            at("2026-11-28T08:12:59.000+07:00"),
            at("2026-11-28T01:14:00.000+00:00"),
        ];
        let a = by_minute(&times, &zone);
        assert_eq!(a, [Arrival { minute: "08:12".into(), present: 2 }, Arrival { minute: "08:14".into(), present: 1 }]);
        let days = by_minute(&[times[0], at("2026-11-29T01:00:00.000+00:00")], &zone);
        assert_eq!(days[1].minute, "29/11 08:00");
    }
}
