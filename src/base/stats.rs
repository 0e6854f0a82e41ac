//! The figures runs and benchmarks report about themselves.

/// A memory figure of this process from /proc/self/status ("VmRSS",
/// "VmHWM"...), in MiB; None where the system does not report it.
pub fn memory_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// This process's threads, from /proc/self/status.
pub fn threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("Threads:"))?.trim().parse().ok()
}

/// The files, sockets and pipes this process holds open.
pub fn open_files() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
}

/// Starts the peak (VmHWM) over from the memory in use now, so that one part
/// of a run can be measured alone (Linux 4.0 and later; elsewhere nothing).
pub fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The `p`-th percentile (0..1) of `values`, by the nearest rank; 0 for none.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_the_nearest_rank() {
        let v = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!((percentile(&v, 0.5), percentile(&v, 0.95), percentile(&v, 1.0)), (3.0, 5.0, 5.0));
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert!(memory_mib("VmRSS").is_some_and(|m| m > 1.0));
        assert!(threads().is_some_and(|t| t >= 1));
        let before = open_files().unwrap();
        let file = std::fs::File::open("/proc/self/status").unwrap();
        assert!(open_files().unwrap() > before);
        drop(file);
    }
}
