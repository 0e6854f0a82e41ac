//! Checks shared by every stage's settings: a value outside its range (NaN
//! and infinity included) is refused at load, naming the key.

use std::fmt::Display;
use std::ops::RangeInclusive;

/// `Err` naming `key` unless `value` lies in `range`.
pub fn within<T: PartialOrd + Display>(key: &str, value: T, range: RangeInclusive<T>) -> Result<(), String> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(format!("{key} = {value} is out of range: it must be between {} and {}", range.start(), range.end()))
    }
}

/// `within` for an optional setting; None (the default) is always fine.
pub fn within_opt<T: PartialOrd + Display + Copy>(
    key: &str,
    value: Option<T>,
    range: RangeInclusive<T>,
) -> Result<(), String> {
    value.map_or(Ok(()), |v| within(key, v, range))
}
