//! One error type for the library. Every message names the file or row at
//! fault and says what to do about it: organisers read these, not developers.

use std::path::Path;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Runtime(String),
    #[error("{0}")]
    Model(String),
    #[error("{path}: {reason}")]
    Image { path: String, reason: String },
    #[error("{0}")]
    Roster(String),
    #[error("{0}")]
    Store(String),
    #[error("{0}")]
    Io(String),
}

impl Error {
    pub fn image(path: &Path, reason: impl Into<String>) -> Self {
        Error::Image { path: path.display().to_string(), reason: reason.into() }
    }

    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        Error::Io(format!("{}: {err}", path.display()))
    }
}
