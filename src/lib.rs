//! Face-recognition check-in for congresses.
//!
//! Data flows one way through one module per stage:
//! `decode` (photo files) → `detect` → `align` → `quality` → `embed`
//! (together: `engine`) → `matching` (1:N search) → `decide` → `record`
//! (the SQLite store). `recognize` joins engine, gallery and policy;
//! `roster` and `enroll` fill the store; `eval` and `bench` measure.

pub mod align;
pub mod bench;
pub mod camera;
pub mod checkin;
pub mod collate;
pub mod config;
pub mod decide;
pub mod decode;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod enroll;
pub mod error;
pub mod eval;
pub mod export;
pub mod face;
pub mod lookup;
pub mod matching;
pub mod present;
pub mod quality;
pub mod recognize;
pub mod record;
pub mod roster;
pub mod runtime;

pub use engine::{Engine, Scene};
pub use error::{Error, Result};
pub use face::{BBox, Face};
