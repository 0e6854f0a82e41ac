//! `kiosk bench --soak MINUTES`: the kiosk's pipeline (detection, liveness,
//! embedding, matching, recording) walked by a queue of real faces for a long
//! time, with its memory, threads and open files each minute. A kiosk runs
//! all day: anything that grows per frame or per check-in shows here.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use crate::base::stats::{memory_mib, open_files, threads};
use crate::checkin::Settings;
use crate::error::Result;
use crate::measure::queue::Hall;

/// The process as it stood after `minute` minutes.
#[derive(Debug, Clone)]
pub struct Sample {
    pub minute: u64,
    /// Passes of the queue so far, and the check-ins they recorded.
    pub passes: u64,
    pub check_ins: usize,
    pub rss_mib: f64,
    pub threads: usize,
    pub open_files: usize,
}

impl Sample {
    fn now(minute: u64, passes: u64, check_ins: usize) -> Sample {
        Sample {
            minute,
            passes,
            check_ins,
            rss_mib: memory_mib("VmRSS").unwrap_or(0.0),
            threads: threads().unwrap_or(0),
            open_files: open_files().unwrap_or(0),
        }
    }
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "minute {:>3}: {:>4} passes, {:>6} check-ins, RSS {:.1} MiB, {} threads, {} open files",
            self.minute, self.passes, self.check_ins, self.rss_mib, self.threads, self.open_files
        )
    }
}

/// Walks a queue of 40 people (a gallery of up to 200) past the kiosk for
/// `minutes`, each pass in a session of its own so that every pass records;
/// `each` hears every sample as it is taken (the first after the set-up).
pub fn soak(settings: &Settings, faces: &Path, minutes: u64, mut each: impl FnMut(&Sample)) -> Result<Vec<Sample>> {
    let mut hall = Hall::open(settings, faces, 200, 40, 1, false)?;
    let started = Instant::now();
    let mut samples = vec![Sample::now(0, 0, 0)];
    each(&samples[0]);
    let (mut passes, mut check_ins, mut minute) = (0, 0, 0);
    while minute < minutes {
        passes += 1;
        hall.new_session(&format!("Vòng {passes}"))?;
        check_ins += hall.walk()?.checked_in;
        let now = started.elapsed().as_secs() / 60;
        if now > minute {
            minute = now;
            samples.push(Sample::now(minute, passes, check_ins));
            each(samples.last().expect("just pushed"));
        }
    }
    Ok(samples)
}

/// What a soak found, for its last line: growth from the first minute on
/// (the first minute warms the caches), threads and files from start to end.
pub fn verdict(samples: &[Sample]) -> String {
    let (Some(first), Some(warm), Some(last)) = (samples.first(), samples.get(1), samples.last()) else {
        return "too short to say: soak for at least one minute".into();
    };
    let minutes = last.minute - warm.minute;
    format!(
        "over {minutes} minutes after the first: RSS {:+.1} MiB ({:.1} → {:.1}), threads {} → {}, open files {} → {}",
        last.rss_mib - warm.rss_mib,
        warm.rss_mib,
        last.rss_mib,
        first.threads,
        last.threads,
        first.open_files,
        last.open_files
    )
}
