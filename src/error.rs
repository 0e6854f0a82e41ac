//! One error type for the library. Every message names the file, row or
//! setting at fault and says what to do about it: organisers read these, not
//! developers. The underlying error is kept as the source, for the logs.

use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any error of a library the kiosk uses, kept as the cause.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is unreadable or out of range.
    #[error("{0}")]
    Config(String),
    /// ONNX Runtime is missing or does not start.
    #[error("{message}")]
    Runtime {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// A model file is missing, damaged or not the model it should be.
    #[error("{message}")]
    Model {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    #[error("{}: {problem}", path.display())]
    Image { path: PathBuf, problem: ImageProblem },
    /// A roster file, or a delegate code that is not on the roster.
    #[error("{0}")]
    Roster(String),
    /// A file or folder given to a command is not what it should be.
    #[error("{0}")]
    Input(String),
    /// The database refused or failed; `message` says what to do.
    #[error("{message}")]
    Store {
        message: String,
        #[source]
        source: Option<rusqlite::Error>,
    },
    /// The shared ledger (PostgreSQL) refused or cannot be reached; `message` says what to do.
    #[error("{message}")]
    Ledger {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No camera, or the camera stopped delivering frames.
    #[error("{message}")]
    Camera {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// Writing an export or a picture failed.
    #[error("{what}: {source}")]
    Output {
        what: String,
        #[source]
        source: Cause,
    },
}

/// What is wrong with the bytes of a picture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageProblem {
    #[error("cannot read the file ({0})")]
    Unreadable(String),
    #[error("not an image file (use a JPEG, PNG, WebP, BMP or TIFF photo)")]
    NotAnImage,
    #[error("the image is damaged or truncated: {0} (export the photo again)")]
    Damaged(String),
    #[error(
        "the image declares {width}x{height} pixels, more than the {limit} megapixels the kiosk reads; scale it down (4000 pixels wide is plenty)"
    )]
    TooLarge { width: u32, height: u32, limit: u32 },
    #[error("the image is empty")]
    Empty,
    #[error("format not supported ({0}): convert it to JPEG or PNG")]
    Unsupported(String),
    #[error("not a photo file (a folder, a device or a pipe): give the path of a photo file")]
    NotAFile,
    #[error("the file is {bytes} bytes, more than the {limit} a photo may be: export it smaller")]
    FileTooLarge { bytes: u64, limit: u64 },
}

impl Error {
    pub fn image(path: &Path, problem: ImageProblem) -> Self {
        Error::Image { path: path.to_path_buf(), problem }
    }

    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }

    pub fn output(what: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Output { what: what.into(), source: source.into() }
    }

    pub fn model(message: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Model { message: message.into(), source: Some(source.into()) }
    }

    /// Another writer holds the database: worth trying again in a moment.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Error::Store { source: Some(e), .. }
                if matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
        )
    }
}
