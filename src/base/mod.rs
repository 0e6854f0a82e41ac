//! Small helpers every layer may need and none owns: the admin PIN, files
//! and scratch folders for their owner's eyes only, and the figures a run
//! reports (percentiles, memory).

pub mod pin;
pub mod private;
pub mod scratch;
pub mod stats;
