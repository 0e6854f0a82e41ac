//! Pictures to faces: decode a photo, find faces and their five landmarks,
//! align each to the embedder's template, judge its quality, embed it. The
//! `Engine` runs the whole pipeline; every stage is usable on its own.

pub mod align;
pub mod decode;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod face;
pub mod follow;
pub mod liveness;
pub mod qr;
pub mod quality;
pub mod runtime;
