//! Face-recognition check-in for congresses.
//!
//! One folder per layer, in the order a face travels; each layer uses only
//! the layers above it in this list (`tests/layers.rs` checks it):
//!
//! - `base`, `error`, `home`, `settings`, `text`: shared ground (the PIN and
//!   run figures, errors, where the kiosk's files are, settings checks,
//!   Vietnamese text).
//! - `vision`: photo files and frames → faces (detect, align, quality, embed).
//! - `capture`: where frames come from (webcam, a folder of photos).
//! - `matching`: faces → decisions (1:N search, threshold and margin, agreement
//!   over frames).
//! - `store`: the SQLite file (delegates, templates, sessions, attendance, audit).
//! - `ledger`: the PostgreSQL ledger several kiosks share, and the sync of
//!   each kiosk's file with it.
//! - `secretariat`: roster in, enrolment, attendance lists out.
//! - `checkin`: the check-in itself: the live station with its liveness
//!   gate, and the staff verbs every desk uses (check in, undo, papers).
//! - `present`: the kiosk window.
//! - `dashboard`: the secretariat's live web page.
//! - `measure`: accuracy, speed and the queue at the door.
//! - `config`: the settings file, composed of each layer's own section.

pub mod base;
pub mod error;
pub mod home;
pub mod settings;
pub mod text;

pub mod vision;

pub mod capture;

pub mod matching;

pub mod store;

pub mod ledger;

pub mod secretariat;

pub mod checkin;

pub mod present;

pub mod dashboard;

pub mod measure;

pub mod config;

pub use error::{Error, Result};
pub use vision::engine::{Engine, Scene};
pub use vision::face::{BBox, Face};
