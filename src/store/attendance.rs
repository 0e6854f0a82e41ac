//! Congress sessions and who attended them: once per delegate and session,
//! by face, by the search lane or by staff, each check-in audited.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::time::Timestamp;
use crate::store::{Store, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Face,
    Manual,
    Search,
    /// The badge's QR code, and the face of its holder checked against it.
    Badge,
    /// The badge alone, for a delegate with no face enrolled (`badges.without_face = "accept"`).
    BadgeOnly,
}

impl Method {
    pub const ALL: [Method; 5] = [Method::Face, Method::Manual, Method::Search, Method::Badge, Method::BadgeOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Face => "face",
            Method::Manual => "manual",
            Method::Search => "search",
            Method::Badge => "badge",
            Method::BadgeOnly => "badge_only",
        }
    }
}

impl ToSql for Method {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for Method {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value.as_str()? {
            "face" => Ok(Method::Face),
            "manual" => Ok(Method::Manual),
            "search" => Ok(Method::Search),
            "badge" => Ok(Method::Badge),
            "badge_only" => Ok(Method::BadgeOnly),
            other => Err(FromSqlError::Other(format!("unknown check-in method {other:?}").into())),
        }
    }
}

/// Why a face check-in was made: the similarity and how many camera frames agreed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evidence {
    pub score: f32,
    pub frames: u32,
}

/// Attendance of one delegation in one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegationCount {
    pub delegation: String,
    pub present: usize,
    pub total: usize,
}

/// `part` of `whole` in percent (the quorum percentage); 0 of nobody.
pub fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { 100.0 * part as f64 / whole as f64 }
}

/// Present and total over all delegations.
pub fn overall(counts: &[DelegationCount]) -> (usize, usize) {
    counts.iter().fold((0, 0), |(p, t), c| (p + c.present, t + c.total))
}

/// One line of the attendance list: a delegate, present or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListRow {
    pub code: String,
    pub name: String,
    pub delegation: String,
    pub seat: String,
    pub checked_in_at: Option<Timestamp>,
    pub method: Option<Method>,
    pub kiosk: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub name: String,
    pub opens: Option<String>,
    pub closes: Option<String>,
    pub present: usize,
}

/// One recorded check-in, for the latest-check-ins list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attendance {
    pub code: String,
    pub name: String,
    pub delegation: String,
    pub at: Timestamp,
    pub method: Method,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CheckIn {
    Recorded { at: Timestamp },
    AlreadyCheckedIn { at: Timestamp },
}

impl CheckIn {
    /// When the delegate was (first) checked in, and whether that was earlier.
    pub fn when(&self) -> (Timestamp, bool) {
        match self {
            CheckIn::Recorded { at } => (*at, false),
            CheckIn::AlreadyCheckedIn { at } => (*at, true),
        }
    }
}

const SESSION_ID: &str = "(SELECT id FROM sessions WHERE name = ?1)";

/// The delegates a session (?1) counts, each with their attendance in it:
/// everyone on the roster, and those removed since who had checked in. The
/// counts, the list and the hall all count the same people.
fn summoned() -> String {
    format!(
        "FROM delegates d LEFT JOIN attendance a ON a.delegate_code = d.code AND a.session_id = {SESSION_ID}
         WHERE d.removed_at IS NULL OR a.delegate_code IS NOT NULL"
    )
}

/// What is wrong with a new session's name, if anything: it heads every
/// paper and spreadsheet of the session, so it is short and plain text.
pub fn session_name_problem(name: &str) -> Option<String> {
    const LIMIT: usize = 100;
    let count = name.chars().count();
    if name.trim().is_empty() {
        Some("a session needs a name".into())
    } else if count > LIMIT {
        Some(format!("the session name has {count} characters, more than the {LIMIT} it may have"))
    } else if crate::text::normalize(name).1 {
        Some("the session name holds invisible or control characters; type it again".into())
    } else {
        None
    }
}

/// The id of session `name`, or the refusal that lists the sessions there
/// are: sessions are made on purpose (`kiosk session add`), never by a typo
/// in a check-in, an export or the kiosk's settings.
fn find_session(conn: &rusqlite::Connection, name: &str) -> rusqlite::Result<std::result::Result<i64, Error>> {
    if let Some(id) = conn.query_row("SELECT id FROM sessions WHERE name = ?1", [name], |r| r.get(0)).optional()? {
        return Ok(Ok(id));
    }
    let known: Vec<String> = conn
        .prepare("SELECT name FROM sessions ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let known = if known.is_empty() { "none yet".to_string() } else { format!("\"{}\"", known.join("\", \"")) };
    Ok(Err(Error::Roster(format!(
        "there is no session \"{name}\" (sessions: {known}); check the name, or add it with `kiosk session add NAME --db DB`"
    ))))
}

impl Store {
    pub fn session_id(&self, name: &str) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT id FROM sessions WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// The session, or an error that lists those there are: a misspelt
    /// session must not show as an empty hall.
    pub fn require_session(&self, name: &str) -> Result<()> {
        find_session(&self.conn, name).map_err(|e| self.fail(e))?.map(drop)
    }

    pub fn attendance_count(&self, session: &str) -> Result<usize> {
        self.value(&format!("SELECT count(*) FROM attendance WHERE session_id = {SESSION_ID}"), [session])
    }

    /// The attendance of `code` in `session`, if any: time, method and, for a face check-in, the evidence.
    pub fn attendance(&self, session: &str, code: &str) -> Result<Option<(Timestamp, Method, Option<Evidence>)>> {
        self.conn
            .query_row(
                &format!(
                    "SELECT checked_in_at, method, score, frames FROM attendance
                     WHERE session_id = {SESSION_ID} AND delegate_code = ?2"
                ),
                [session, code],
                |r| {
                    let evidence = match (r.get::<_, Option<f32>>(2)?, r.get::<_, Option<u32>>(3)?) {
                        (Some(score), frames) => Some(Evidence { score, frames: frames.unwrap_or(1) }),
                        _ => None,
                    };
                    Ok((r.get(0)?, r.get(1)?, evidence))
                },
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// Records `code` as present in `session` (which must exist) exactly once.
    pub fn check_in(
        &mut self,
        session: &str,
        code: &str,
        method: Method,
        kiosk: &str,
        evidence: Option<Evidence>,
    ) -> Result<CheckIn> {
        self.transaction(|tx| tx.check_in(session, code, method, kiosk, evidence, None))
    }

    /// A check-in made by staff, with the reason kept in the audit log.
    pub fn manual_check_in(&mut self, session: &str, code: &str, kiosk: &str, reason: &str) -> Result<CheckIn> {
        self.transaction(|tx| tx.check_in(session, code, Method::Manual, kiosk, None, Some(reason)))
    }

    /// Removes a check-in (a wrong match, a delegate who left); the audit log
    /// keeps what was removed and why. False if there was nothing to undo.
    pub fn undo_check_in(&mut self, session: &str, code: &str, kiosk: &str, reason: &str) -> Result<bool> {
        self.transaction(|tx| {
            let removed: Option<(Timestamp, Method, String)> = tx
                .tx
                .query_row(
                    &format!(
                        "DELETE FROM attendance WHERE delegate_code = ?2 AND session_id = {SESSION_ID}
                         RETURNING checked_in_at, method, kiosk"
                    ),
                    [session, code],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(|e| tx.fail(e))?;
            let Some((at, method, by)) = removed else { return Ok(false) };
            let detail = serde_json::json!({"session": session, "code": code, "reason": reason, "kiosk": kiosk,
                "removed": {"checked_in_at": at, "method": method, "kiosk": by}});
            tx.audit("undo_check_in", &detail.to_string())?;
            Ok(true)
        })
    }

    pub fn sessions(&self) -> Result<Vec<String>> {
        self.rows("SELECT name FROM sessions ORDER BY id", [], |r| r.get(0))
    }

    /// Present and roster counts per delegation, in Vietnamese order.
    pub fn counts_by_delegation(&self, session: &str) -> Result<Vec<DelegationCount>> {
        let mut counts = self.rows(
            &format!("SELECT d.delegation, count(a.delegate_code), count(*) {} GROUP BY d.delegation", summoned()),
            [session],
            |r| Ok(DelegationCount { delegation: r.get(0)?, present: r.get(1)?, total: r.get(2)? }),
        )?;
        counts.sort_by_cached_key(|c| crate::text::collate::text_key(&c.delegation));
        Ok(counts)
    }

    /// Every delegate with their attendance in `session`, in the order of
    /// the official list: by given name, the Vietnamese way.
    pub fn attendance_list(&self, session: &str) -> Result<Vec<ListRow>> {
        let mut rows = self.rows(
            &format!("SELECT d.code, d.name, d.delegation, d.seat, a.checked_in_at, a.method, a.kiosk {}", summoned()),
            [session],
            |r| {
                Ok(ListRow {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    delegation: r.get(2)?,
                    seat: r.get(3)?,
                    checked_in_at: r.get(4)?,
                    method: r.get(5)?,
                    kiosk: r.get(6)?,
                })
            },
        )?;
        rows.sort_by_cached_key(|r| (crate::text::collate::name_key(&r.name), r.code.clone()));
        Ok(rows)
    }

    /// Sessions with their opening and closing times and how many attended.
    pub fn session_summaries(&self) -> Result<Vec<SessionSummary>> {
        self.rows(
            "SELECT s.name, s.opens, s.closes, count(a.delegate_code) FROM sessions s
             LEFT JOIN attendance a ON a.session_id = s.id GROUP BY s.id ORDER BY s.id",
            [],
            |r| Ok(SessionSummary { name: r.get(0)?, opens: r.get(1)?, closes: r.get(2)?, present: r.get(3)? }),
        )
    }

    /// Every delegate's seat and whether they are present in `session`: the
    /// hall plan, without the names and the sorting the lists need.
    pub fn seats(&self, session: &str) -> Result<Vec<(String, bool)>> {
        self.rows(&format!("SELECT d.seat, a.delegate_code IS NOT NULL {}", summoned()), [session], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// When each delegate present in `session` arrived, earliest first: the
    /// arrivals chart, whose counts add up to the present count.
    pub fn arrival_times(&self, session: &str) -> Result<Vec<Timestamp>> {
        self.rows(
            &format!(
                "SELECT a.checked_in_at FROM attendance a JOIN delegates d ON d.code = a.delegate_code
                 WHERE a.session_id = {SESSION_ID} ORDER BY a.checked_in_at"
            ),
            [session],
            |r| r.get(0),
        )
    }

    pub fn latest_check_ins(&self, session: &str, limit: usize) -> Result<Vec<Attendance>> {
        self.rows(
            &format!(
                "SELECT d.code, d.name, d.delegation, a.checked_in_at, a.method FROM attendance a
                 JOIN delegates d ON d.code = a.delegate_code
                 WHERE a.session_id = {SESSION_ID} ORDER BY a.checked_in_at DESC, a.rowid DESC LIMIT ?2"
            ),
            params![session, limit as i64],
            |r| {
                Ok(Attendance {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    delegation: r.get(2)?,
                    at: r.get(3)?,
                    method: r.get(4)?,
                })
            },
        )
    }

    /// The face snapshots of a session's check-ins: (code, JPEG); then the
    /// refused faces, as `refused-ID` (the name their audit entry gives).
    pub fn snapshots(&self, session: &str) -> Result<Vec<(String, Vec<u8>)>> {
        self.rows(
            &format!(
                "SELECT * FROM (SELECT delegate_code, snapshot FROM attendance
                 WHERE session_id = {SESSION_ID} AND snapshot IS NOT NULL ORDER BY delegate_code)
                 UNION ALL
                 SELECT * FROM (SELECT 'refused-' || id, jpeg FROM refused_snapshots WHERE session = ?1 ORDER BY id)"
            ),
            [session],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
}

impl Tx<'_> {
    /// Adds a congress session, or sets the opening and closing times of an existing one.
    pub fn add_session(&mut self, name: &str, opens: Option<&str>, closes: Option<&str>) -> Result<()> {
        if let Some(problem) = session_name_problem(name) {
            return Err(Error::Roster(problem));
        }
        self.ensure_session(name)?;
        self.execute(
            "UPDATE sessions SET opens = coalesce(?2, opens), closes = coalesce(?3, closes) WHERE name = ?1",
            params![name, opens, closes],
        )?;
        let detail = serde_json::json!({"session": name, "opens": opens, "closes": closes});
        self.audit("session", &detail.to_string())
    }

    pub fn ensure_session(&mut self, name: &str) -> Result<i64> {
        self.execute(
            "INSERT INTO sessions (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
            params![name, self.now],
        )?;
        self.tx.query_row("SELECT id FROM sessions WHERE name = ?1", [name], |r| r.get(0)).map_err(|e| self.fail(e))
    }

    /// A face the kiosk refused (`action`: a picture of a face, a badge
    /// shown with another face...): the audit entry, naming the snapshot kept
    /// with it (when `jpeg` is given).
    pub fn refused(
        &mut self,
        action: &str,
        session: &str,
        mut detail: serde_json::Value,
        jpeg: Option<&[u8]>,
    ) -> Result<()> {
        if let Some(jpeg) = jpeg {
            self.execute(
                "INSERT INTO refused_snapshots (at, session, jpeg) VALUES (?1, ?2, ?3)",
                params![self.now, session, jpeg],
            )?;
            detail["snapshot"] = format!("refused-{}.jpg", self.tx.last_insert_rowid()).into();
        }
        self.audit(action, &detail.to_string())
    }

    /// Keeps the face seen at a check-in just recorded.
    pub fn attach_snapshot(&mut self, session: &str, code: &str, jpeg: &[u8]) -> Result<()> {
        self.execute(
            &format!("UPDATE attendance SET snapshot = ?3 WHERE delegate_code = ?2 AND session_id = {SESSION_ID}"),
            params![session, code, jpeg],
        )?;
        Ok(())
    }

    pub fn check_in(
        &mut self,
        session: &str,
        code: &str,
        method: Method,
        kiosk: &str,
        evidence: Option<Evidence>,
        reason: Option<&str>,
    ) -> Result<CheckIn> {
        let removed: Option<Option<Timestamp>> = self
            .tx
            .query_row("SELECT removed_at FROM delegates WHERE code = ?1", [code], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))?;
        match removed {
            None => return Err(Error::Roster(format!("there is no delegate with code {code} on the roster"))),
            Some(Some(when)) => {
                return Err(Error::Roster(format!(
                    "delegate {code} was removed from the roster on {}; enrol them again to check them in",
                    when.0.format("%Y-%m-%d")
                )));
            }
            Some(None) => {}
        }
        let session_id = find_session(&self.tx, session).map_err(|e| self.fail(e))??;
        let inserted = self.execute(
            "INSERT INTO attendance (session_id, delegate_code, checked_in_at, method, kiosk, score, frames)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(session_id, delegate_code) DO NOTHING",
            params![session_id, code, self.now, method, kiosk, evidence.map(|e| e.score), evidence.map(|e| e.frames)],
        )?;
        if inserted == 0 {
            let earlier: Timestamp = self
                .tx
                .query_row(
                    "SELECT checked_in_at FROM attendance WHERE session_id = ?1 AND delegate_code = ?2",
                    params![session_id, code],
                    |r| r.get(0),
                )
                .map_err(|e| self.fail(e))?;
            return Ok(CheckIn::AlreadyCheckedIn { at: earlier });
        }
        let detail = serde_json::json!({"session": session, "code": code, "method": method, "kiosk": kiosk,
            "score": evidence.map(|e| e.score), "frames": evidence.map(|e| e.frames), "reason": reason});
        self.audit("check_in", &detail.to_string())?;
        Ok(CheckIn::Recorded { at: self.now })
    }
}
