//! How well and how fast: accuracy on labelled photo folders (`kiosk eval`)
//! and speed and memory per stage (`kiosk bench`).

pub mod bench;
pub mod eval;
