//! Speed and memory, measured (not asserted): see `kiosk bench`.

use std::fmt;
use std::path::Path;

use crate::config::Config;
use crate::error::Result;

#[derive(Debug, Default)]
pub struct Report;

pub fn run(_cfg: &Config, _faces: &Path, _max_gallery: usize) -> Result<Report> {
    Ok(Report)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "")
    }
}
