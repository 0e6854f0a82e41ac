//! Faces to decisions: which enrolled person a face is most like (1:N
//! search), whether that is sure enough (threshold and margin), and whether
//! several camera frames agree.

pub mod agreement;
pub mod calibrate;
pub mod decide;
pub mod gallery;
pub mod recognize;
