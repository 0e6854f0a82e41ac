//! The desk: a thread that does the window's slow work (store writes and
//! queries, the Argon2 PIN check) so that the window never waits on it.
//! The window sends it `Effect`s; it answers with `Reply`s.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

use crate::base::pin::{PinCheck, PinGate};
use crate::checkin::enrolment::DeskLink;
use crate::checkin::staff::{self, Checked, How, enrolled_photo};
use crate::error::{Error, Result};
use crate::ledger::Line;
use crate::ledger::syncer::LinkWatch;
use crate::present::model::{AdminView, Effect};
use crate::secretariat::EventConfig;
use crate::secretariat::papers::file_name;
use crate::secretariat::pdf;
use crate::store::time::Timestamp;
use crate::store::{Delegate, DelegationCount, Store};
use crate::text::Lang;

/// What the desk did.
#[derive(Debug)]
pub enum Reply {
    CheckedIn {
        delegate: Delegate,
        at: Timestamp,
        already: bool,
        photo: Option<Arc<image::RgbImage>>,
    },
    PinChecked(Option<AdminView>),
    /// Too many wrong PINs were typed here: none is taken for a while.
    PinShutOut,
    AdminRefreshed {
        session: String,
        view: AdminView,
    },
    Counts(Vec<DelegationCount>),
    /// The papers written, as paths.
    Papers(Vec<String>),
    /// The camera was asked for this delegate's face; the station answers with the capture.
    Capturing,
    /// The approved face was enrolled: the gallery has it from the next frame.
    Enrolled(Delegate),
    DelegateAdded(Delegate),
    /// A write or a query failed: nothing was recorded.
    Failed(String),
}

/// The client a PIN typed on the kiosk's own screen comes from.
const SCREEN: &str = "the kiosk's screen";

pub struct Desk {
    pub store: Store,
    pub session: Arc<RwLock<String>>,
    pub pin_hash: String,
    /// Wrong PINs typed on this screen: too many shut it for a while.
    pub pins: PinGate,
    pub kiosk_id: String,
    /// The shared ledger, told of each write so that it is sent at once.
    pub link: Option<LinkWatch>,
    /// The shared ledger, asked for the congress's audit head when the papers are printed.
    pub ledger: Option<Line>,
    /// The event's name, quorum rule and signatories, for the papers.
    pub event: EventConfig,
    /// Where the admin screen's papers go.
    pub papers_dir: PathBuf,
    /// Shared with the station: faces to capture, faces enrolled.
    pub faces: DeskLink,
}

impl Desk {
    /// Works until the window drops its end of `jobs`; `done` runs after each reply (a repaint).
    pub fn spawn(
        mut self,
        jobs: Receiver<Effect>,
        replies: Sender<Reply>,
        done: impl Fn() + Send + 'static,
    ) -> thread::JoinHandle<()> {
        thread::spawn(move || {
            for effect in jobs {
                let reply = self.work(effect).unwrap_or_else(|e| Reply::Failed(e.to_string()));
                if let Some(link) = &self.link {
                    link.nudge();
                }
                if replies.send(reply).is_err() {
                    break;
                }
                done();
            }
        })
    }

    fn session(&self) -> String {
        self.session.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn work(&mut self, effect: Effect) -> Result<Reply> {
        let session = self.session();
        match effect {
            Effect::ManualCheckIn { code, by_staff: true } => {
                let how = How::Staff { reason: "checked in by staff from the admin screen" };
                staff::check_in(&mut self.store, &session, &code, how, &self.kiosk_id)?;
                self.refreshed(session)
            }
            Effect::ManualCheckIn { code, by_staff: false } => self.check_in(&session, &code, How::Search),
            Effect::CodeConfirmed { code, evidence } => self.check_in(&session, &code, How::CodeConfirmed { evidence }),
            Effect::CheckPin(pin) => match self.pins.check(SCREEN, &pin, &self.pin_hash, Instant::now()) {
                PinCheck::Right => {
                    tracing::info!("admin screen opened");
                    Ok(Reply::PinChecked(Some(self.admin_view(&session)?)))
                }
                PinCheck::Wrong { left } => {
                    tracing::warn!(left, "wrong admin PIN");
                    staff::pin_refused(&mut self.store, SCREEN, &self.kiosk_id, false)?;
                    Ok(Reply::PinChecked(None))
                }
                PinCheck::ShutOut(out) => {
                    tracing::warn!(seconds_left = out.seconds_left, "admin PIN refused: too many wrong ones");
                    staff::pin_refused(&mut self.store, SCREEN, &self.kiosk_id, true)?;
                    Ok(Reply::PinShutOut)
                }
            },
            Effect::SwitchSession(name) => {
                *self.session.write().unwrap_or_else(|p| p.into_inner()) = name.clone();
                self.refreshed(name)
            }
            Effect::Undo { code, reason } => {
                staff::undo(&mut self.store, &session, &code, &self.kiosk_id, reason.audit_text())?;
                self.refreshed(session)
            }
            Effect::Recount => Ok(Reply::Counts(self.store.counts_by_delegation(&session)?)),
            Effect::PrintPapers => self.print_papers(&session),
            Effect::CaptureFace(delegate) => {
                *self.faces.capture.lock().unwrap_or_else(|p| p.into_inner()) = Some(delegate);
                Ok(Reply::Capturing)
            }
            Effect::AddDelegate(delegate) => {
                staff::add_delegate(&mut self.store, &delegate, &self.kiosk_id)?;
                Ok(Reply::DelegateAdded(delegate))
            }
            Effect::EnrolFace(candidate) => {
                staff::enrol_at_desk(&mut self.store, &candidate, &self.kiosk_id)?;
                self.faces.enrolled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tracing::info!(code = %candidate.delegate.code, "help desk: face enrolled");
                Ok(Reply::Enrolled(candidate.delegate))
            }
        }
    }

    /// A check-in made at the kiosk's screen, for the welcome.
    fn check_in(&mut self, session: &str, code: &str, how: How) -> Result<Reply> {
        let Checked { delegate, outcome } = staff::check_in(&mut self.store, session, code, how, &self.kiosk_id)?;
        let (at, already) = outcome.when();
        Ok(Reply::CheckedIn { photo: enrolled_photo(&self.store, code), delegate, at, already })
    }

    /// The list to sign and the credentials report, in the congress's language, into `papers_dir`.
    fn print_papers(&mut self, session: &str) -> Result<Reply> {
        let read = staff::session_papers(&self.store, self.ledger.as_mut(), session)?;
        let papers = read.papers(Lang::Vi, &self.event);
        std::fs::create_dir_all(&self.papers_dir).map_err(|e| Error::io(&self.papers_dir, e))?;
        let list = self.papers_dir.join(file_name("attendance", session, "pdf"));
        let report = self.papers_dir.join(file_name("credentials", session, "pdf"));
        pdf::write_list(&list, &papers)?;
        pdf::write_report(&report, &papers)?;
        Ok(Reply::Papers(vec![list.display().to_string(), report.display().to_string()]))
    }

    fn admin_view(&self, session: &str) -> Result<AdminView> {
        Ok(AdminView {
            sessions: self.store.sessions()?,
            counts: self.store.counts_by_delegation(session)?,
            latest: self.store.latest_check_ins(session, 10)?,
            papers: Vec::new(),
        })
    }

    fn refreshed(&self, session: String) -> Result<Reply> {
        let view = self.admin_view(&session)?;
        Ok(Reply::AdminRefreshed { session, view })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desk(dir: &std::path::Path) -> Desk {
        let mut store = Store::open(&dir.join("desk.db")).unwrap();
        let d = Delegate { code: "D1".into(), name: "Lê Thị Hà".into(), ..Delegate::default() };
        store.transaction(|tx| tx.ensure_session("Phiên 1").and_then(|_| tx.upsert_delegate(&d))).unwrap();
        Desk {
            store,
            session: Arc::new(RwLock::new("Phiên 1".into())),
            pin_hash: crate::base::pin::hash_pin("2468").unwrap(),
            pins: PinGate::default(),
            link: None,
            ledger: None,
            kiosk_id: "k".into(),
            event: EventConfig::default(),
            papers_dir: dir.join("papers"),
            faces: DeskLink::default(),
        }
    }

    /// Everything the desk answers to `effects`, in order.
    fn answers(desk: Desk, effects: Vec<Effect>) -> Vec<Reply> {
        let (jobs, desk_jobs) = crossbeam_channel::unbounded();
        let (replies, answers) = crossbeam_channel::unbounded();
        let worker = desk.spawn(desk_jobs, replies, || ());
        effects.into_iter().for_each(|e| jobs.send(e).unwrap());
        drop(jobs);
        let got = answers.iter().collect();
        worker.join().unwrap();
        got
    }

    #[test]
    fn five_wrong_pins_shut_the_admin_screen_for_a_while_and_each_refusal_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let mut effects: Vec<Effect> = (0..6).map(|_| Effect::CheckPin("1111".into())).collect();
        effects.push(Effect::CheckPin("2468".into()));
        let got = answers(desk(dir.path()), effects);
        assert!(got[..5].iter().all(|r| matches!(r, Reply::PinChecked(None))), "{got:?}");
        assert!(got[5..].iter().all(|r| matches!(r, Reply::PinShutOut)), "the right PIN too: {got:?}");
        let audit = Store::open(&dir.path().join("desk.db")).unwrap().audit_entries().unwrap();
        let refused: Vec<&String> = audit.iter().filter(|(a, _)| a == "pin_refused").map(|(_, d)| d).collect();
        assert_eq!(refused.len(), 7);
        assert!(refused[0].contains("wrong PIN") && refused[6].contains("shut out"), "{refused:?}");
    }

    /// The desk answers on its own thread, in order, with a real file and a
    /// real Argon2 check: the window only sends and receives.
    #[test]
    fn the_desk_checks_the_pin_and_records_check_ins_on_its_own_thread() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let (jobs, desk_jobs) = crossbeam_channel::unbounded();
        let (replies, answers) = crossbeam_channel::unbounded();
        let window = thread::current().id();
        let worker = desk.spawn(desk_jobs, replies, move || assert_ne!(thread::current().id(), window));
        jobs.send(Effect::CheckPin("1111".into())).unwrap();
        jobs.send(Effect::CheckPin("2468".into())).unwrap();
        jobs.send(Effect::ManualCheckIn { code: "D1".into(), by_staff: false }).unwrap();
        jobs.send(Effect::ManualCheckIn { code: "NOPE".into(), by_staff: false }).unwrap();
        jobs.send(Effect::PrintPapers).unwrap();
        drop(jobs);
        let got: Vec<Reply> = answers.iter().collect();
        worker.join().unwrap();
        assert!(matches!(got[0], Reply::PinChecked(None)));
        assert!(matches!(&got[1], Reply::PinChecked(Some(view)) if view.sessions == ["Phiên 1"]));
        assert!(matches!(&got[2], Reply::CheckedIn { delegate, already: false, .. } if delegate.code == "D1"));
        assert!(matches!(&got[3], Reply::Failed(e) if e.contains("NOPE")));
        let Reply::Papers(files) = &got[4] else { panic!("papers") };
        assert!(files[0].ends_with("attendance-phien_1.pdf") && files[1].ends_with("credentials-phien_1.pdf"));
        assert!(files.iter().all(|f| std::fs::read(f).unwrap().starts_with(b"%PDF")));
    }
}
