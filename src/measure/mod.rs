//! How well and how fast: accuracy on labelled photo folders (`kiosk eval`),
//! speed and memory per stage (`kiosk bench`), and a queue of people walking
//! up to the kiosk (`kiosk bench --queue`), and the same queue for many
//! minutes (`kiosk bench --soak`).

pub mod bench;
pub mod eval;
pub mod ledger;
pub mod liveness;
pub mod queue;
pub mod soak;
