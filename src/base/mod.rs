//! Small helpers every layer may need and none owns: the admin PIN, files
//! for their owner's eyes only, and the figures a run reports (percentiles,
//! memory).

pub mod pin;
pub mod private;
pub mod stats;
