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

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::ledger::sync::{pull_into, push_all};
use crate::store::Store;
use crate::store::time::Zone;

const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often a pull happens anyway, in case a notification was missed.
const PULL_ANYWAY: Duration = Duration::from_secs(5);

/// What the kiosk shows of its link.
#[derive(Debug, Clone, Default)]
pub struct LinkStatus {
    pub online: bool,
    /// Check-ins not yet in the ledger.
    pub waiting: usize,
    /// Changes of any kind not yet in the ledger.
    pub outbox: usize,
    /// Bumped each time a pull changes who can be recognised.
    pub roster_version: u64,
    /// Bumped each time a pull brings anything (the kiosk's header figures).
    pub pulled: u64,
    /// Bumped each time a kiosk reports to the ledger (the dashboard's kiosk list).
    pub reports: u64,
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
    signals: Sender<Signal>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// What wakes the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// Something was written here: send it.
    Wrote,
    /// The ledger's shared rows changed (or may have, after a reconnection): pull.
    RowsChanged,
    /// A kiosk reported.
    KioskReported,
}

impl Syncer {
    pub fn start(link: Link) -> Result<Syncer> {
        let store = Store::open(&link.db)?.with_zone(link.zone);
        let status = Arc::new(Mutex::new(LinkStatus::default()));
        let (signals, inbox) = crossbeam_channel::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let listener = Listener { url: link.url.clone(), signals: signals.clone(), stop: stop.clone() };
        let worker = Worker { link, store, ledger: None, status: status.clone(), stop: stop.clone() };
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new().name(name.into()).spawn(f).map_err(|e| Error::io(std::path::Path::new(name), e))
        };
        let threads = vec![
            spawn("ledger-listen", Box::new(move || listener.run()))?,
            spawn("ledger-sync", Box::new(move || worker.run(inbox)))?,
        ];
        Ok(Syncer { status, signals, stop, threads })
    }

    /// A handle for the threads that write check-ins or show the link.
    pub fn watch(&self) -> LinkWatch {
        LinkWatch { status: self.status.clone(), signals: self.signals.clone() }
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
    signals: Sender<Signal>,
}

impl LinkWatch {
    pub fn status(&self) -> LinkStatus {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Something was written here: send it now.
    pub fn nudge(&self) {
        let _ = self.signals.send(Signal::Wrote);
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.signals.send(Signal::Wrote);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Waits on its own connection for the ledger's notifications, so that a
/// change reaches the worker at once, whatever the worker is doing.
struct Listener {
    url: String,
    signals: Sender<Signal>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    fn run(self) {
        while !self.stop.load(Ordering::SeqCst) {
            let Ok(mut ledger) = Ledger::connect(&self.url).and_then(|mut l| l.listen().map(|_| l)) else {
                std::thread::sleep(Duration::from_millis(500));
                continue;
            };
            // Changes made while nobody listened: pull once.
            let _ = self.signals.send(Signal::RowsChanged);
            while !self.stop.load(Ordering::SeqCst) {
                match ledger.wait_notified(Duration::from_millis(500)) {
                    Ok((rows, kiosk)) => {
                        if rows {
                            let _ = self.signals.send(Signal::RowsChanged);
                        }
                        if kiosk {
                            let _ = self.signals.send(Signal::KioskReported);
                        }
                    }
                    Err(_) => break,
                }
            }
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
    fn run(mut self, inbox: Receiver<Signal>) {
        let mut last_beat: Option<Instant> = None;
        let mut last_pull: Option<Instant> = None;
        let mut signals = vec![Signal::RowsChanged];
        while !self.stop.load(Ordering::SeqCst) {
            let pull = signals.contains(&Signal::RowsChanged) || last_pull.is_none_or(|t| t.elapsed() >= PULL_ANYWAY);
            let outcome = self.round(pull, &mut last_beat);
            if pull && outcome.is_ok() {
                last_pull = Some(Instant::now());
            }
            let waiting = self.store.waiting().unwrap_or_default();
            let online = self.ledger.is_some() && outcome.is_ok();
            {
                let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
                (s.outbox, s.waiting) = waiting;
                match outcome {
                    Ok((roster, changed)) => {
                        s.roster_version += roster as u64;
                        s.pulled += changed as u64;
                        s.reports += signals.contains(&Signal::KioskReported) as u64;
                    }
                    // Said once, when the link goes; the kiosk shows "offline" meanwhile.
                    Err(e) if s.online => tracing::warn!("ledger link lost: {e}"),
                    Err(_) => {}
                }
                s.online = online;
            }
            // Dropped: a new connection next time, soon after the link is back.
            let wait = if online { HEARTBEAT } else { Duration::from_millis(500) };
            if !online {
                self.ledger = None;
            }
            signals = match inbox.recv_timeout(wait) {
                Ok(first) => std::iter::once(first).chain(inbox.try_iter()).collect(),
                Err(_) => Vec::new(),
            };
        }
    }

    /// One turn: connect if needed, send, pull if asked to, say alive.
    /// Returns whether the roster changed and whether anything did.
    fn round(&mut self, pull: bool, last_beat: &mut Option<Instant>) -> Result<(bool, bool)> {
        if self.ledger.is_none() {
            self.ledger = Some(Ledger::connect(&self.link.url)?);
        }
        let ledger = self.ledger.as_mut().expect("connected above");
        let kiosk = self.link.kiosk.as_deref().unwrap_or("dashboard");
        let (sent, _) = push_all(&mut self.store, ledger, kiosk)?;
        let mut out = (false, false);
        if pull {
            let (pulled, roster) = pull_into(&mut self.store, ledger)?;
            out = (roster, pulled > 0);
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
