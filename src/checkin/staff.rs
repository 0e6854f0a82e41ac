//! The verbs of the people who run the check-in: check a delegate in, undo a
//! check-in, print a session's papers. The kiosk's desk, the dashboard's
//! clerk and the command line call these and nothing else, so that the
//! method recorded, the audit entry and the papers' audit head are decided
//! here once.

use std::sync::Arc;

use image::RgbImage;

use crate::checkin::enrolment::Candidate;
use crate::error::{Error, Result};
use crate::ledger::Line;
use crate::secretariat::EventConfig;
use crate::secretariat::hall::{self, Drawing, Hall};
use crate::secretariat::papers::Papers;
use crate::store::delegates::DESK_PHOTO;
use crate::store::time::Zone;
use crate::store::{AuditHead, CheckIn, Delegate, DelegationCount, Evidence, ListRow, Method, Store};
use crate::text::Lang;

/// How a delegate came to be checked in: what is recorded, and why, for the audit log.
#[derive(Debug, Clone, Copy)]
pub enum How<'a> {
    /// Recognised at the camera; `snapshot` is the face as seen, kept when the settings say so.
    Face { evidence: Evidence, snapshot: Option<&'a [u8]> },
    /// A lookalike's face, settled by the delegate typing their own code.
    CodeConfirmed { evidence: Evidence },
    /// The badge's QR code, and the face beside it checked 1:1 against the delegate it names.
    Badge { evidence: Evidence, snapshot: Option<&'a [u8]> },
    /// The badge alone: a delegate with no face enrolled, where the settings allow it.
    BadgeOnly,
    /// The delegate chose their own name in the kiosk's search lane.
    Search,
    /// Staff checked them in, for this reason.
    Staff { reason: &'a str },
}

impl How<'_> {
    fn method(&self) -> Method {
        match self {
            How::Face { .. } | How::CodeConfirmed { .. } => Method::Face,
            How::Badge { .. } => Method::Badge,
            How::BadgeOnly => Method::BadgeOnly,
            How::Search => Method::Search,
            How::Staff { .. } => Method::Manual,
        }
    }

    fn snapshot(&self) -> Option<&[u8]> {
        match self {
            How::Face { snapshot, .. } | How::Badge { snapshot, .. } => *snapshot,
            _ => None,
        }
    }

    fn evidence(&self) -> Option<Evidence> {
        match self {
            How::Face { evidence, .. } | How::CodeConfirmed { evidence } | How::Badge { evidence, .. } => {
                Some(*evidence)
            }
            How::Search | How::Staff { .. } | How::BadgeOnly => None,
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            How::CodeConfirmed { .. } => Some("lookalike: confirmed with the delegate code"),
            How::Staff { reason } => Some(reason),
            How::BadgeOnly => Some("badge only: no face enrolled (badges.without_face = \"accept\")"),
            How::Face { .. } | How::Search | How::Badge { .. } => None,
        }
    }
}

/// Enrols the face staff approved at the kiosk's help desk: its template,
/// and `enrolled_at_desk` in the audit log with the kiosk (and the lookalike
/// staff were shown, if any). With a ledger the kiosk's copy sends both on,
/// and the other kiosks take the face like any enrolment.
pub fn enrol_at_desk(store: &mut Store, candidate: &Candidate, kiosk: &str) -> Result<()> {
    let code = &candidate.delegate.code;
    let photo = format!("{DESK_PHOTO}{}", store.zone().now());
    let lookalike = candidate.lookalike.as_ref().map(|(d, score)| serde_json::json!({"code": d.code, "score": score}));
    let detail = serde_json::json!({"code": code, "kiosk": kiosk, "model": candidate.model, "lookalike": lookalike});
    store.transaction(|tx| {
        tx.put_template(code, &photo, &candidate.model, &candidate.template)?;
        tx.audit("enrolled_at_desk", &detail.to_string())
    })
}

/// Adds a delegate missing from the roster, typed in at the help desk;
/// `added_at_desk` in the audit log with the kiosk. A code already in use
/// is refused: nobody is overwritten from a kiosk.
pub fn add_delegate(store: &mut Store, delegate: &Delegate, kiosk: &str) -> Result<()> {
    if store.delegate(&delegate.code)?.is_some() {
        return Err(Error::Input(format!("the code {} is already a delegate's: use another", delegate.code)));
    }
    let detail = serde_json::json!({"code": delegate.code, "name": delegate.name, "kiosk": kiosk});
    store.transaction(|tx| {
        tx.upsert_delegate(delegate)?;
        tx.audit("added_at_desk", &detail.to_string())
    })
}

/// A wrong admin PIN, or any PIN from a client shut out for too many
/// (`base::pin::PinGate`): `pin_refused` in the audit log, with the client
/// (an address, or the kiosk's own screen) and where it was typed.
pub fn pin_refused(store: &mut Store, client: &str, kiosk: &str, shut_out: bool) -> Result<()> {
    let why = if shut_out { "shut out after too many wrong PINs" } else { "wrong PIN" };
    let detail = serde_json::json!({"client": client, "kiosk": kiosk, "why": why});
    store.transaction(|tx| tx.audit("pin_refused", &detail.to_string()))
}

/// A check-in made (or found made earlier in the session).
#[derive(Debug, Clone)]
pub struct Checked {
    pub delegate: Delegate,
    pub outcome: CheckIn,
}

/// Records `code` as present in `session`, once; a second check-in only says when the first was.
pub fn check_in(store: &mut Store, session: &str, code: &str, how: How, kiosk: &str) -> Result<Checked> {
    let outcome = store.transaction(|tx| {
        let outcome = tx.check_in(session, code, how.method(), kiosk, how.evidence(), how.reason())?;
        if let (CheckIn::Recorded { .. }, Some(jpeg)) = (&outcome, how.snapshot()) {
            tx.attach_snapshot(session, code, jpeg)?;
        }
        Ok(outcome)
    })?;
    let delegate = store
        .delegate(code)?
        .ok_or_else(|| Error::Roster(format!("there is no delegate with code {code} on the roster")))?;
    Ok(Checked { delegate, outcome })
}

/// Removes a check-in, keeping it and `reason` in the audit log; false when there was none.
pub fn undo(store: &mut Store, session: &str, code: &str, kiosk: &str, reason: &str) -> Result<bool> {
    store.undo_check_in(session, code, kiosk, reason)
}

/// Why staff undo a check-in at the kiosk's admin screen; the words go into the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UndoReason {
    WrongPerson,
    LeftTheHall,
    EnteredByMistake,
}

impl UndoReason {
    pub const ALL: [UndoReason; 3] = [UndoReason::WrongPerson, UndoReason::LeftTheHall, UndoReason::EnteredByMistake];

    pub fn audit_text(self) -> &'static str {
        match self {
            UndoReason::WrongPerson => "wrong person recognised",
            UndoReason::LeftTheHall => "delegate left the hall",
            UndoReason::EnteredByMistake => "entered by mistake",
        }
    }
}

/// The audit head the papers carry: with a ledger, the congress's one chain
/// (a kiosk's copy holds only part of it), else the file's own.
pub fn audit_head(store: &Store, ledger: Option<&mut Line>) -> Result<AuditHead> {
    match ledger {
        Some(line) => line.ask(|l| l.audit_head()).map_err(|e| match e {
            Error::Ledger { message, source } => Error::Ledger {
                message: format!(
                    "{message}\nThe papers must carry the congress's audit head, which only the ledger has: \
                     print them again when it can be reached."
                ),
                source,
            },
            other => other,
        }),
        None => store.audit_head(),
    }
}

/// What a session's papers are printed from, read together.
pub struct SessionPapers {
    pub session: String,
    pub rows: Vec<ListRow>,
    pub counts: Vec<DelegationCount>,
    pub head: AuditHead,
    pub zone: Zone,
}

impl SessionPapers {
    pub fn papers<'a>(&'a self, lang: Lang, event: &'a EventConfig) -> Papers<'a> {
        Papers::new(lang, event, &self.session, &self.rows, &self.counts, self.zone, &self.head)
    }

    pub fn present(&self) -> usize {
        self.rows.iter().filter(|r| r.checked_in_at.is_some()).count()
    }
}

/// The hall with each seat present or absent in `session`, for `kiosk hall`
/// and the dashboard.
pub fn hall(store: &Store, session: &str, lang: Lang, event: &EventConfig) -> Result<Drawing> {
    store.require_session(session)?;
    let layout = hall::Layout::load(&event.hall_layout)?;
    let seated = store.seats(session)?;
    let hall = Hall::new(seated.iter().map(|(seat, _)| seat.as_str()), &layout);
    Ok(hall::presence(&hall, &seated, lang))
}

/// A session's list, figures and audit head, for the list to sign and the
/// credentials report. A session nobody has checked in to yet has its papers
/// too (everyone absent): a name typed by hand is checked by the caller.
pub fn session_papers(store: &Store, ledger: Option<&mut Line>, session: &str) -> Result<SessionPapers> {
    Ok(SessionPapers {
        session: session.to_string(),
        rows: store.attendance_list(session)?,
        counts: store.counts_by_delegation(session)?,
        head: audit_head(store, ledger)?,
        zone: store.zone(),
    })
}

/// The thumbnail stored at enrolment, decoded; a missing or damaged one only
/// means a welcome without a photo.
pub fn enrolled_photo(store: &Store, code: &str) -> Option<Arc<RgbImage>> {
    let bytes = store.thumbnail(code).ok()??;
    crate::vision::decode::decode_image(&bytes).ok().map(Arc::new)
}
