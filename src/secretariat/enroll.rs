//! Enrolment: roster rows and their photos become delegates with face
//! templates. Photos are analysed on all cores; the results are stored in
//! one transaction, so an interrupted run leaves the store as it was.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::matching::calibrate::{Calibration, calibrate_for};
use crate::matching::decide::DecideConfig;
use crate::secretariat::roster::{Entry, Roster};
use crate::store::{Lookalike, NewTemplate, Store};
use crate::vision::detect::Source;
use crate::vision::embed::EmbedderKind;
use crate::vision::engine::Engine;
use crate::vision::quality::{Issue, QualityConfig};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Enrolled,
    NoPhoto,
    NoConsent,
    PhotoMissing,
    PhotoOutside,
    PhotoUnreadable { reason: String },
    NoFace,
    SeveralFaces { count: usize },
    PoorQuality { issues: Vec<Issue> },
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Enrolled => "enrolled".into(),
            Outcome::NoPhoto => "no photo in the roster (kept on the roster; uses the help desk lane)".into(),
            Outcome::NoConsent => "no biometric consent: kept on the roster without a face template".into(),
            Outcome::PhotoMissing => "photo file not found".into(),
            Outcome::PhotoOutside => {
                "the photo path leaves the photo folder (--photos); name photos from inside that folder".into()
            }
            Outcome::PhotoUnreadable { reason } => format!("photo unreadable: {reason}"),
            Outcome::NoFace => "no face found in the photo".into(),
            Outcome::SeveralFaces { count } => {
                format!("{count} faces in the photo; use a photo of this delegate alone")
            }
            Outcome::PoorQuality { issues } => issues.iter().map(|i| i.describe()).collect::<Vec<_>>().join(", "),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub line: usize,
    pub code: String,
    pub name: String,
    pub photo: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Another delegate enrolled with the very same photo file (by content).
    pub same_photo_as: Option<String>,
}

struct Analysed {
    outcome: Outcome,
    template: Option<NewTemplate>,
}

pub fn enroll(
    engine: &Engine,
    store: &mut Store,
    roster: &Roster,
    photos: &Path,
    quality: &QualityConfig,
    on_progress: impl Fn() + Sync,
) -> Result<Vec<Report>> {
    // One job per photo; a delegate without photos or consent is one job too, for the report.
    let jobs: Vec<(&Entry, Option<&str>)> =
        roster.entries.iter().flat_map(|e| e.photos_to_enrol().into_iter().map(move |p| (e, p))).collect();
    let analysed: Vec<Analysed> = jobs
        .par_iter()
        .map(|(entry, photo)| {
            let out = match photo {
                Some(p) => match inside(photos, p) {
                    Some(path) => analyse(engine, &path, quality),
                    None => Ok(Analysed { outcome: Outcome::PhotoOutside, template: None }),
                },
                None if !entry.consent => Ok(Analysed { outcome: Outcome::NoConsent, template: None }),
                None => Ok(Analysed { outcome: Outcome::NoPhoto, template: None }),
            };
            on_progress();
            out
        })
        .collect::<Result<_>>()?;
    let model = engine.embedder().model_id();
    store.transaction(|tx| {
        for entry in &roster.entries {
            tx.upsert_delegate(&entry.delegate)?;
            let keep: &[String] = if entry.consent { &entry.photos } else { &[] };
            tx.keep_only_templates(&entry.delegate.code, model, keep)?;
        }
        for ((entry, photo), a) in jobs.iter().zip(&analysed) {
            if let (Some(photo), Some(t)) = (photo, &a.template) {
                tx.put_template(&entry.delegate.code, photo, model, t)?;
            }
        }
        let enrolled = analysed.iter().filter(|a| a.outcome == Outcome::Enrolled).count();
        let detail = serde_json::json!({"rows": roster.entries.len(), "photos_enrolled": enrolled, "model": model});
        tx.audit("enroll", &detail.to_string())
    })?;
    // The same picture for two delegates is a roster mistake, or one person twice.
    let mut first_owner: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    let mut reports = Vec::with_capacity(jobs.len());
    for ((entry, photo), a) in jobs.iter().zip(&analysed) {
        let code = entry.delegate.code.as_str();
        let same_as = a.template.as_ref().and_then(|t| {
            let owner = *first_owner.entry(t.photo_sha256.as_str()).or_insert(code);
            (owner != code).then(|| owner.to_string())
        });
        reports.push(Report {
            line: entry.line,
            code: code.to_string(),
            name: entry.delegate.name.clone(),
            photo: photo.unwrap_or_default().to_string(),
            outcome: a.outcome.clone(),
            same_photo_as: same_as,
        });
    }
    Ok(reports)
}

/// What the audit after an enrolment found and kept.
pub struct Audit {
    /// Every pair of enrolled delegates whose faces are closer than the
    /// lookalike level, closest first: the kiosk asks them for their code when
    /// it cannot tell them apart, and a person checks them before the event.
    pub lookalikes: Vec<Lookalike>,
    /// The threshold for this gallery; None when it is too small to calibrate on.
    pub calibration: Option<Calibration>,
}

/// The lookalike pairs and the calibrated threshold of `kind`'s gallery,
/// both stored for the kiosk; the gallery is read once for both.
pub fn audit_gallery(store: &mut Store, kind: EmbedderKind, decide: &DecideConfig) -> Result<Audit> {
    let (people, gallery) = store.gallery(kind.model_id(), kind.dim())?;
    let lookalikes: Vec<Lookalike> = gallery
        .lookalikes(decide.lookalike(kind))
        .into_iter()
        .map(|(a, b, score)| Lookalike { a: people[a].code.clone(), b: people[b].code.clone(), score })
        .collect();
    let calibration = calibrate_for(&gallery, kind, decide.margin(kind));
    store.transaction(|tx| {
        tx.replace_lookalikes(kind.model_id(), &lookalikes)?;
        tx.put_calibration(kind.model_id(), calibration.as_ref())
    })?;
    Ok(Audit { lookalikes, calibration })
}

/// Sets the threshold for this gallery again (`matching::calibrate`) and keeps it for the kiosk.
pub fn calibrate_gallery(store: &mut Store, kind: EmbedderKind, decide: &DecideConfig) -> Result<Option<Calibration>> {
    let (_, gallery) = store.gallery(kind.model_id(), kind.dim())?;
    let found = calibrate_for(&gallery, kind, decide.margin(kind));
    store.transaction(|tx| tx.put_calibration(kind.model_id(), found.as_ref()))?;
    Ok(found)
}

/// A roster's photo name as a path inside the photo folder, or None when it
/// climbs out ("../") or names a place elsewhere: a roster comes from many
/// hands. Read without the file system, so links the organisers made inside
/// the folder are still followed.
fn inside(folder: &Path, name: &str) -> Option<std::path::PathBuf> {
    let folder = lexical(&std::path::absolute(folder).ok()?);
    let path = lexical(&folder.join(name));
    path.starts_with(&folder).then_some(path)
}

/// An absolute path with "." and ".." worked out as the kernel would.
fn lexical(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Only model failures are errors; anything wrong with a photo is an outcome.
fn analyse(engine: &Engine, path: &Path, cfg: &QualityConfig) -> Result<Analysed> {
    use crate::vision::decode::{decode_image, read_image_file};
    let rejected = |outcome| Ok(Analysed { outcome, template: None });
    let bytes = match read_image_file(path) {
        Ok(bytes) => bytes,
        Err(_) if !path.exists() => return rejected(Outcome::PhotoMissing),
        Err(problem) => return rejected(Outcome::PhotoUnreadable { reason: problem.to_string() }),
    };
    let img = match decode_image(&bytes) {
        Ok(img) => img,
        Err(problem) => return rejected(Outcome::PhotoUnreadable { reason: problem.to_string() }),
    };
    let scene = engine.analyze_main(&img, Source::Photo)?;
    let Some(face) = scene.main() else {
        return rejected(Outcome::NoFace);
    };
    if scene.is_crowded() {
        return rejected(Outcome::SeveralFaces { count: scene.faces.len() });
    }
    let (Some(quality), Some(embedding)) = (face.quality, face.embedding.clone()) else {
        return rejected(Outcome::NoFace);
    };
    let issues = quality.issues(cfg);
    if !issues.is_empty() {
        return rejected(Outcome::PoorQuality { issues });
    }
    let template = NewTemplate {
        photo_sha256: hex::encode(Sha256::digest(&bytes)),
        embedding,
        quality,
        thumbnail: crate::vision::decode::face_jpeg(&img, &face.bbox)?,
    };
    Ok(Analysed { outcome: Outcome::Enrolled, template: Some(template) })
}

#[cfg(test)]
mod tests {
    use super::inside;
    use std::path::Path;

    #[test]
    fn a_roster_names_photos_only_inside_the_photo_folder() {
        let folder = Path::new("/srv/photos");
        assert_eq!(inside(folder, "an.jpg").unwrap(), Path::new("/srv/photos/an.jpg"));
        assert_eq!(inside(folder, "./doan/an.jpg").unwrap(), Path::new("/srv/photos/doan/an.jpg"));
        assert_eq!(inside(folder, "/srv/photos/an.jpg").unwrap(), Path::new("/srv/photos/an.jpg"));
        assert_eq!(inside(folder, "doan/../an.jpg").unwrap(), Path::new("/srv/photos/an.jpg"));
        assert_eq!(inside(Path::new("/"), "/srv/../srv/an.jpg").unwrap(), Path::new("/srv/an.jpg"));
        for outside in ["../an.jpg", "doan/../../etc/shadow", "/etc/shadow", "/srv/photos/../x.jpg"] {
            assert!(inside(folder, outside).is_none(), "{outside}");
        }
    }
}
