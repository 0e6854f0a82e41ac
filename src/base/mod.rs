//! Small helpers every layer may need and none owns: the admin PIN, and the
//! figures a run reports (percentiles, memory).

pub mod pin;
pub mod stats;
