//! The clerk: the one thread that touches the database for the web page.
//! The server's tasks send it jobs and await its answers, so that neither
//! SQLite nor the PostgreSQL client ever blocks the async runtime. Between
//! jobs it watches for changes and rings `ticks` when the figures may differ.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use tokio::sync::{oneshot, watch};

use crate::checkin::staff::{self, How, SessionPapers};
use crate::dashboard::figures::Figures;
use crate::error::{Error, Result};
use crate::ledger::sync::follow;
use crate::ledger::syncer::{Link, Syncer};
use crate::ledger::{KioskStatus, Ledger, Line};
use crate::secretariat::EventConfig;
use crate::secretariat::export::{Paper, write_csv, write_xlsx};
use crate::secretariat::hall::Drawing;
use crate::secretariat::pdf;
use crate::store::Store;
use crate::store::time::Zone;
use crate::text::Lang;

/// How often the clerk looks for changes made by others.
const LOOK: Duration = Duration::from_millis(100);
/// The figures are offered again this often anyway (kiosks go offline by the clock).
const ANYWAY: Duration = Duration::from_secs(2);
/// Names the secretariat's own check-ins and undos in the records.
pub const DESK: &str = "secretariat";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Csv,
    Xlsx,
    /// The list to sign.
    Pdf,
    /// The credentials report.
    Report,
}

type Answer<T> = oneshot::Sender<std::result::Result<T, String>>;

pub enum Job {
    Figures {
        session: String,
        answer: Answer<Figures>,
    },
    Sessions {
        answer: Answer<Vec<String>>,
    },
    /// What a list or report says; drawn off this thread (`render`), so
    /// that a PDF of thousands of pages never holds up the figures.
    Papers {
        session: String,
        answer: Answer<SessionPapers>,
    },
    /// The hall, each seat present or absent.
    Hall {
        session: String,
        lang: Lang,
        answer: Answer<Drawing>,
    },
    /// The PIN was checked before these reach the clerk.
    CheckIn {
        session: String,
        code: String,
        answer: Answer<String>,
    },
    Undo {
        session: String,
        code: String,
        reason: String,
        answer: Answer<String>,
    },
    PinRefused {
        client: String,
        shut_out: bool,
        answer: Answer<()>,
    },
}

pub struct Clerk {
    store: Store,
    event: EventConfig,
    zone: Zone,
    /// With a ledger: the link that keeps the copy in step, and the line
    /// for the kiosks' status and the papers' audit head.
    ledger: Option<(Syncer, Line)>,
    /// The kiosks as last read, shown while the ledger cannot be reached.
    kiosks: Vec<KioskStatus>,
    ledger_online: bool,
}

impl Clerk {
    /// On a single file, or on a copy of the ledger at `url` (`db`, or a
    /// scratch file) brought up to date now and kept so in the background.
    pub fn open(db: PathBuf, url: Option<String>, event: EventConfig) -> Result<Clerk> {
        let zone = event.zone().map_err(Error::Config)?;
        let mut store = Store::open(&db)?.with_zone(zone);
        let ledger = match url {
            Some(url) => {
                let mut ledger = Ledger::connect(&url)?;
                follow(&mut store, &mut ledger)?;
                let syncer = Syncer::start(Link { url: url.clone(), db, zone, kiosk: None })?;
                Some((syncer, Line::new(&url)))
            }
            None => None,
        };
        Ok(Clerk { store, event, zone, ledger, kiosks: Vec::new(), ledger_online: true })
    }

    /// Answers jobs until every sender is gone.
    pub fn work(mut self, jobs: Receiver<Job>, ticks: watch::Sender<u64>) {
        let mut seen = self.token();
        let mut rang = Instant::now();
        loop {
            let wrote = match jobs.recv_timeout(LOOK) {
                Ok(job) => self.answer(job),
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let now = self.token();
            if wrote || now != seen || rang.elapsed() >= ANYWAY {
                seen = now;
                rang = Instant::now();
                ticks.send_modify(|n| *n += 1);
            }
        }
    }

    /// Moves when another program commits to the file, or a kiosk reports.
    fn token(&self) -> (i64, u64) {
        let link = self.ledger.as_ref().map_or(0, |(s, _)| s.watch().status().reports);
        (self.store.data_version().unwrap_or_default(), link)
    }

    /// Returns whether it wrote.
    fn answer(&mut self, job: Job) -> bool {
        fn send<T>(answer: Answer<T>, out: Result<T>) {
            let _ = answer.send(out.map_err(|e| e.to_string()));
        }
        match job {
            Job::Figures { session, answer } => send(answer, self.figures(&session)),
            Job::Sessions { answer } => send(answer, self.store.sessions()),
            Job::Papers { session, answer } => send(answer, self.papers(&session)),
            Job::Hall { session, lang, answer } => send(answer, staff::hall(&self.store, &session, lang, &self.event)),
            Job::CheckIn { session, code, answer } => {
                let out = self.staff(|c| {
                    let how = How::Staff { reason: "checked in by the secretariat (dashboard)" };
                    let (at, already) = staff::check_in(&mut c.store, &session, &code, how, DESK)?.outcome.when();
                    Ok(if already {
                        format!("{code}: already checked in at {}", c.zone.clock(&at))
                    } else {
                        format!("{code}: checked in at {}", c.zone.clock(&at))
                    })
                });
                send(answer, out);
                return true;
            }
            Job::Undo { session, code, reason, answer } => {
                let out = self.staff(|c| {
                    Ok(if staff::undo(&mut c.store, &session, &code, DESK, &reason)? {
                        format!("{code}: check-in removed")
                    } else {
                        format!("{code} was not checked in: nothing to undo")
                    })
                });
                send(answer, out);
                return true;
            }
            Job::PinRefused { client, shut_out, answer } => {
                send(answer, self.staff(|c| staff::pin_refused(&mut c.store, &client, DESK, shut_out)));
                return true;
            }
        }
        false
    }

    /// A write of the staff's; sent to the ledger at once.
    fn staff<T>(&mut self, write: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let out = write(self)?;
        if let Some((syncer, _)) = &self.ledger {
            syncer.watch().nudge();
        }
        Ok(out)
    }

    fn figures(&mut self, session: &str) -> Result<Figures> {
        self.refresh_kiosks();
        let kiosks = self.ledger.as_ref().map(|_| self.kiosks.as_slice());
        let mut figures = Figures::read(&self.store, session, &self.event, &self.zone, kiosks)?;
        figures.ledger_online = self.ledger_online;
        Ok(figures)
    }

    fn refresh_kiosks(&mut self) {
        let Some((_, line)) = &mut self.ledger else { return };
        match line.ask(Ledger::kiosks) {
            Ok(kiosks) => {
                self.kiosks = kiosks;
                self.ledger_online = true;
            }
            Err(_) => {
                self.ledger_online = false;
                for k in &mut self.kiosks {
                    k.online = false;
                }
            }
        }
    }

    fn papers(&mut self, session: &str) -> Result<SessionPapers> {
        self.store.require_session(session)?;
        staff::session_papers(&self.store, self.ledger.as_mut().map(|(_, line)| line), session)
    }
}

/// A list or report as a file's bytes.
pub fn render(read: &SessionPapers, format: ListFormat, lang: Lang, event: &EventConfig) -> Result<Vec<u8>> {
    let dir = crate::base::scratch::folder()?;
    let path = dir.path().join("list");
    let papers = read.papers(lang, event);
    match format {
        ListFormat::Csv => write_csv(&path, &read.rows, &read.zone, None)?,
        ListFormat::Xlsx => write_xlsx(&path, &papers, Paper::List)?,
        ListFormat::Pdf => pdf::write_list(&path, &papers)?,
        ListFormat::Report => pdf::write_report(&path, &papers)?,
    }
    std::fs::read(&path).map_err(|e| Error::io(&path, e))
}
