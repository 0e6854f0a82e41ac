//! Times the secretariat reads: instants to the millisecond, stored with
//! their UTC offset, shown in the congress's time zone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::Serialize;

/// The congress's time zone: an IANA name, or this machine's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Machine,
    Named(chrono_tz::Tz),
}

impl Zone {
    /// "" = this machine's zone; otherwise an IANA name such as "Asia/Ho_Chi_Minh".
    pub fn parse(name: &str) -> Result<Zone, String> {
        if name.trim().is_empty() {
            return Ok(Zone::Machine);
        }
        chrono_tz::Tz::from_str(name.trim())
            .map(Zone::Named)
            .map_err(|_| format!("\"{name}\" is not a time zone name; use one like \"Asia/Ho_Chi_Minh\", or leave it empty for this machine's"))
    }

    pub fn now(&self) -> Timestamp {
        self.at(Utc::now())
    }

    /// To the millisecond, as stored: a time read back equals the one written.
    fn at(&self, instant: DateTime<Utc>) -> Timestamp {
        let instant = instant.trunc_subsecs(3);
        Timestamp(match self {
            Zone::Machine => instant.with_timezone(&chrono::Local).fixed_offset(),
            Zone::Named(tz) => instant.with_timezone(tz).fixed_offset(),
        })
    }

    /// The same instant on this zone's clocks.
    pub fn local(&self, t: &Timestamp) -> Timestamp {
        self.at(t.0.with_timezone(&Utc))
    }

    /// "08:12": the time a person reads, on the congress's clocks.
    pub fn clock(&self, t: &Timestamp) -> String {
        self.local(t).0.format("%H:%M").to_string()
    }
}

/// An instant with the offset it was recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<FixedOffset>);

impl fmt::Display for Timestamp {
    /// "2026-11-28T08:12:03.120+07:00".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%.3f%:z"))
    }
}

impl FromStr for Timestamp {
    type Err = chrono::ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateTime::parse_from_rfc3339(s).map(Timestamp)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_str()?.parse().map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_their_offset_and_show_on_the_congress_clock() {
        let t: Timestamp = "2026-11-28T01:12:03.120+00:00".parse().unwrap();
        let hanoi = Zone::parse("Asia/Ho_Chi_Minh").unwrap();
        assert_eq!(hanoi.clock(&t), "08:12");
        assert_eq!(hanoi.local(&t).to_string(), "2026-11-28T08:12:03.120+07:00");
        assert_eq!(hanoi.local(&t), t, "the same instant");
        assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
        assert!(Zone::parse("Mars/Olympus").unwrap_err().contains("Mars/Olympus"));
        assert_eq!(Zone::parse("").unwrap(), Zone::Machine);
    }
}
