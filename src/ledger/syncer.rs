//! The background link between a kiosk's copy and the ledger: sends the
//! outbox as soon as something is written (`nudge`), pulls when the ledger
//! says rows changed, says the kiosk is alive every second, and when the
//! link or the server is gone, reconnects and carries on where it stopped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::ledger::sync::{pull_into, push_all};
use crate::store::Store;
use crate::store::time::Zone;

const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often a pull happens anyway, in case a notification was missed.
const PULL_ANYWAY: Duration = Duration::from_secs(5);

/// What the kiosk shows of its link.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkStatus {
    pub online: bool,
    /// Check-ins not yet in the ledger.
    pub waiting: usize,
    /// Changes of any kind not yet in the ledger.
    pub outbox: usize,
    /// Bumped each time a pull changes who can be recognised.
    pub roster_version: u64,
    /// Bumped each time a pull brings anything, or a kiosk's status changes.
    pub changes: u64,
    pub problem: Option<String>,
}

/// Who the link speaks for.
#[derive(Debug, Clone)]
pub struct Link {
    pub url: String,
    pub db: PathBuf,
    pub zone: Zone,
    /// The kiosk's name; None for a reader (the dashboard), which sends no heartbeat.
    pub kiosk: Option<String>,
}

pub struct Syncer {
    status: Arc<Mutex<LinkStatus>>,
    nudge: Sender<()>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    pub fn start(link: Link) -> Result<Syncer> {
        let store = Store::open(&link.db)?.with_zone(link.zone);
        let status = Arc::new(Mutex::new(LinkStatus::default()));
        let (nudge, nudged) = crossbeam_channel::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let worker = Worker { link, store, ledger: None, status: status.clone(), stop: stop.clone() };
        let thread = std::thread::Builder::new()
            .name("ledger".into())
            .spawn(move || worker.run(nudged))
            .map_err(|e| Error::io(std::path::Path::new("ledger thread"), e))?;
        Ok(Syncer { status, nudge, stop, thread: Some(thread) })
    }

    /// A handle for the threads that write check-ins or show the link.
    pub fn watch(&self) -> LinkWatch {
        LinkWatch { status: self.status.clone(), nudge: self.nudge.clone() }
    }

    /// Waits up to `within` for the outbox to empty; returns the check-ins
    /// still waiting (they stay in the file and go next time).
    pub fn drain(&self, within: Duration) -> usize {
        let watch = self.watch();
        let until = Instant::now() + within;
        watch.nudge();
        loop {
            let s = watch.status();
            if s.outbox == 0 || Instant::now() >= until {
                return s.waiting;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The link as the kiosk's threads see it.
#[derive(Clone)]
pub struct LinkWatch {
    status: Arc<Mutex<LinkStatus>>,
    nudge: Sender<()>,
}

impl LinkWatch {
    pub fn status(&self) -> LinkStatus {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Something was written here: send it now.
    pub fn nudge(&self) {
        let _ = self.nudge.send(());
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.nudge.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    link: Link,
    store: Store,
    ledger: Option<Ledger>,
    status: Arc<Mutex<LinkStatus>>,
    stop: Arc<AtomicBool>,
}

impl Worker {
    fn run(mut self, nudged: Receiver<()>) {
        let mut last_beat: Option<Instant> = None;
        let mut last_pull: Option<Instant> = None;
        while !self.stop.load(Ordering::SeqCst) {
            let outcome = self.round(&mut last_beat, &mut last_pull);
            let waiting = self.store.waiting().unwrap_or_default();
            {
                let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
                (s.outbox, s.waiting) = waiting;
                s.online = self.ledger.is_some() && outcome.is_ok();
                match outcome {
                    Ok((roster, changed)) => {
                        s.problem = None;
                        s.roster_version += roster as u64;
                        s.changes += changed as u64;
                    }
                    Err(e) => s.problem = Some(e.to_string()),
                }
            }
            if !self.status.lock().unwrap_or_else(|p| p.into_inner()).online {
                // Dropped: a new connection next time. Not too often, but soon after the link is back.
                self.ledger = None;
                last_pull = None;
                let _ = nudged.recv_timeout(Duration::from_millis(500));
                continue;
            }
            let _ = nudged.recv_timeout(Duration::from_millis(200));
            while nudged.try_recv().is_ok() {}
        }
    }

    /// One turn: connect if needed, send, pull if told to, say alive.
    /// Returns whether the roster changed and whether anything did.
    fn round(&mut self, last_beat: &mut Option<Instant>, last_pull: &mut Option<Instant>) -> Result<(bool, bool)> {
        if self.ledger.is_none() {
            let mut ledger = Ledger::connect(&self.link.url)?;
            ledger.listen()?;
            self.ledger = Some(ledger);
        }
        let ledger = self.ledger.as_mut().expect("connected above");
        let (rows_changed, kiosk_changed) = ledger.notified()?;
        let kiosk = self.link.kiosk.as_deref().unwrap_or("dashboard");
        let (sent, _) = push_all(&mut self.store, ledger, kiosk)?;
        let mut out = (false, kiosk_changed);
        if rows_changed || last_pull.is_none_or(|t| t.elapsed() >= PULL_ANYWAY) {
            let (pulled, roster) = pull_into(&mut self.store, ledger)?;
            *last_pull = Some(Instant::now());
            out = (roster, out.1 || pulled > 0);
        }
        if let Some(id) = &self.link.kiosk
            && (sent > 0 || last_beat.is_none_or(|t| t.elapsed() >= HEARTBEAT))
        {
            ledger.heartbeat(id, self.store.waiting()?.1)?;
            *last_beat = Some(Instant::now());
        }
        Ok(out)
    }
}
