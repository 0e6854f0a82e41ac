//! The roster as stored: delegates, their face templates and the lookalike
//! pairs found among them.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::matching::calibrate::Calibration;
use crate::matching::decide::DecideConfig;
use crate::matching::gallery::Gallery;
use crate::matching::recognize::Recognizer;
use crate::store::{Store, Tx};
use crate::vision::embed::EmbedderKind;
use crate::vision::engine::{Engine, EngineConfig};
use crate::vision::quality::{Quality, QualityConfig};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Delegate {
    pub code: String,
    pub name: String,
    pub delegation: String,
    pub seat: String,
    /// Roster columns the kiosk does not interpret, kept as they were.
    pub extra: BTreeMap<String, String>,
}

/// What a template's photo name starts with when the face was taken at a
/// kiosk's help desk (the rest is when): no roster names such a photo.
pub const DESK_PHOTO: &str = "desk:";

/// A face template as enrolment makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTemplate {
    pub photo_sha256: String,
    pub embedding: Vec<f32>,
    pub quality: Quality,
    /// A small JPEG of the face, for the welcome screen.
    pub thumbnail: Vec<u8>,
}

/// Two enrolled delegates whose faces the kiosk could confuse.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lookalike {
    pub a: String,
    pub b: String,
    pub score: f32,
}

/// What taking a delegate off the roster did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Removal {
    /// Gone, with their face templates: they had attended no session.
    Deleted,
    /// Off the roster and without templates, but still on the lists of the
    /// sessions they attended.
    KeptForAttendance {
        sessions: usize,
    },
    NotOnRoster,
}

/// Everyone enrolled with one model: the gallery's person `i` is `people[i]`.
pub struct Enrolled {
    pub people: Vec<Delegate>,
    pub gallery: Gallery,
    /// Lookalike pairs, as gallery people.
    pub lookalikes: Vec<(usize, usize)>,
    /// The thresholds calibrated on this gallery at enrolment, if any.
    pub calibrated: Option<Calibration>,
}

const DELEGATE_COLUMNS: &str = "code, name, delegation, seat, extra";

impl Store {
    /// A delegate on the roster (not removed).
    pub fn delegate(&self, code: &str) -> Result<Option<Delegate>> {
        self.conn
            .query_row(
                &format!("SELECT {DELEGATE_COLUMNS} FROM delegates WHERE code = ?1 AND removed_at IS NULL"),
                [code],
                read_delegate,
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// Every delegate on the roster, in code order.
    pub fn delegates(&self) -> Result<Vec<Delegate>> {
        self.rows(
            &format!("SELECT {DELEGATE_COLUMNS} FROM delegates WHERE removed_at IS NULL ORDER BY code"),
            [],
            read_delegate,
        )
    }

    pub fn delegate_count(&self) -> Result<usize> {
        self.value("SELECT count(*) FROM delegates WHERE removed_at IS NULL", [])
    }

    /// The face photo shown when `code` is welcomed, from their first template.
    pub fn thumbnail(&self, code: &str) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT thumbnail FROM templates WHERE delegate_code = ?1 AND thumbnail IS NOT NULL ORDER BY id LIMIT 1",
                [code],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// How many templates each model has made.
    pub fn template_models(&self) -> Result<Vec<(String, usize)>> {
        self.rows("SELECT model, count(*) FROM templates GROUP BY model ORDER BY model", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// Everyone with a template from `model`, and those templates ready to search.
    pub fn gallery(&self, model: &str, dim: usize) -> Result<(Vec<Delegate>, Gallery)> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT d.code, d.name, d.delegation, d.seat, d.extra, t.embedding
                 FROM templates t JOIN delegates d ON d.code = t.delegate_code
                 WHERE t.model = ?1 ORDER BY d.code, t.id",
            )
            .map_err(|e| self.fail(e))?;
        let mut rows = stmt.query([model]).map_err(|e| self.fail(e))?;
        let mut people: Vec<Delegate> = Vec::new();
        let mut gallery = Gallery::new(dim);
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            let delegate = read_delegate(row).map_err(|e| self.fail(e))?;
            let blob: Vec<u8> = row.get(5).map_err(|e| self.fail(e))?;
            let embedding = blob_to_embedding(&blob);
            if embedding.len() != dim {
                return Err(Error::Store {
                    message: format!(
                        "{}: a template of {} has {} values where {model} makes {dim}; re-enrol that delegate",
                        self.path.display(),
                        delegate.code,
                        embedding.len()
                    ),
                    source: None,
                });
            }
            if people.last().map(|p| &p.code) != Some(&delegate.code) {
                people.push(delegate);
            }
            gallery.add(people.len() - 1, &embedding);
        }
        Ok((people, gallery))
    }

    /// The gallery `kind` made, with its lookalike pairs. Empty when nobody
    /// has a face yet (a new congress, the demo: the kiosk still serves the
    /// search lane and the help desk); an error that says what to do when the
    /// faces were enrolled with another model.
    pub fn enrolled(&self, kind: EmbedderKind) -> Result<Enrolled> {
        let (people, gallery) = self.gallery(kind.model_id(), kind.dim())?;
        let others = if gallery.is_empty() { self.template_models()? } else { Vec::new() };
        if !others.is_empty() {
            let message = format!(
                "the delegates in {} were enrolled with {} but the kiosk is set to {}: run `kiosk enroll` again to re-enrol them with this model (or switch engine.embedder back).",
                self.path.display(),
                others.iter().map(|(m, n)| format!("{m} ({n} templates)")).collect::<Vec<_>>().join(", "),
                kind.model_id()
            );
            return Err(Error::Store { message, source: None });
        }
        let index: HashMap<&str, usize> = people.iter().enumerate().map(|(i, d)| (d.code.as_str(), i)).collect();
        // Pairs naming someone no longer in the gallery are ignored.
        let lookalikes = self
            .lookalikes(kind.model_id())?
            .iter()
            .filter_map(|p| Some((*index.get(p.a.as_str())?, *index.get(p.b.as_str())?)))
            .collect();
        let calibrated = self.calibration(kind.model_id())?;
        Ok(Enrolled { people, gallery, lookalikes, calibrated })
    }

    /// The recogniser of the kiosk and of `identify`/`checkin`: the models of
    /// `engine`, over the gallery they made, with the event's threshold (one
    /// set in the settings wins over the calibrated one); the people it
    /// numbers come back beside it.
    pub fn recognizer(
        &self,
        engine: &EngineConfig,
        decide: &DecideConfig,
        quality: &QualityConfig,
    ) -> Result<(Vec<Delegate>, Recognizer)> {
        let engine = Engine::load(engine)?;
        let enrolled = self.enrolled(engine.embedder())?;
        let policy = decide.policy(engine.embedder(), enrolled.calibrated.as_ref());
        let recognizer = Recognizer::new(engine, enrolled.gallery, policy, quality.clone(), &enrolled.lookalikes);
        Ok((enrolled.people, recognizer))
    }

    /// The threshold last calibrated for `model`'s gallery.
    pub fn calibration(&self, model: &str) -> Result<Option<Calibration>> {
        self.conn
            .query_row(
                "SELECT threshold, expected_fpir, people, pairs, one_to_one FROM calibration WHERE model = ?1",
                [model],
                |r| {
                    Ok(Calibration {
                        threshold: r.get(0)?,
                        expected_fpir: r.get(1)?,
                        people: r.get(2)?,
                        pairs: r.get(3)?,
                        one_to_one: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// The lookalike pairs found among `model`'s templates at the last enrolment, closest first.
    pub fn lookalikes(&self, model: &str) -> Result<Vec<Lookalike>> {
        self.rows(
            "SELECT code_a, code_b, score FROM lookalikes WHERE model = ?1 ORDER BY score DESC, code_a, code_b",
            [model],
            |r| Ok(Lookalike { a: r.get(0)?, b: r.get(1)?, score: r.get(2)? }),
        )
    }
}

impl Tx<'_> {
    /// Adds the delegate or updates their roster fields (putting a removed
    /// delegate back); their templates and attendance are kept.
    pub fn upsert_delegate(&mut self, d: &Delegate) -> Result<()> {
        let extra = serde_json::to_string(&d.extra).unwrap_or_else(|_| "{}".into());
        self.execute(
            "INSERT INTO delegates (code, name, delegation, seat, extra, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(code) DO UPDATE SET name = excluded.name, delegation = excluded.delegation,
               seat = excluded.seat, extra = excluded.extra, updated_at = excluded.updated_at, removed_at = NULL",
            params![d.code, d.name, d.delegation, d.seat, extra, self.now],
        )?;
        Ok(())
    }

    /// Stores the template made by `model` from `photo`, replacing the one an
    /// earlier run made from the same photo.
    pub fn put_template(&mut self, code: &str, photo: &str, model: &str, t: &NewTemplate) -> Result<()> {
        let quality = serde_json::to_string(&t.quality).unwrap_or_else(|_| "{}".into());
        self.execute(
            "INSERT INTO templates (delegate_code, model, embedding, photo, photo_sha256, quality, thumbnail, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(delegate_code, photo, model) DO UPDATE SET embedding = excluded.embedding,
               photo_sha256 = excluded.photo_sha256, quality = excluded.quality, thumbnail = excluded.thumbnail,
               created_at = excluded.created_at",
            params![code, model, embedding_to_blob(&t.embedding), photo, t.photo_sha256, quality, t.thumbnail, self.now],
        )?;
        Ok(())
    }

    /// Drops the templates `model` made for `code` from photos other than
    /// `keep`: the roster is the truth about which photos a delegate has.
    /// Faces enrolled at a kiosk's help desk are not on any roster: they stay.
    pub fn keep_only_templates(&mut self, code: &str, model: &str, keep: &[String]) -> Result<usize> {
        let keep = serde_json::to_string(keep).unwrap_or_else(|_| "[]".into());
        self.execute(
            "DELETE FROM templates WHERE delegate_code = ?1 AND model = ?2
             AND photo NOT IN (SELECT value FROM json_each(?3)) AND substr(photo, 1, length(?4)) != ?4",
            params![code, model, keep, DESK_PHOTO],
        )
    }

    /// Keeps the threshold just calibrated for `model` (None: the gallery was too small, forget any).
    pub fn put_calibration(&mut self, model: &str, c: Option<&Calibration>) -> Result<()> {
        self.execute("DELETE FROM calibration WHERE model = ?1", [model])?;
        if let Some(c) = c {
            self.execute(
                "INSERT INTO calibration (model, threshold, expected_fpir, people, pairs, at, one_to_one)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![model, c.threshold, c.expected_fpir, c.people, c.pairs, self.now, c.one_to_one],
            )?;
            let detail = serde_json::json!({"model": model, "calibration": c});
            self.audit("calibrate", &detail.to_string())?;
        }
        Ok(())
    }

    /// Replaces the lookalike pairs of `model` with those just found.
    pub fn replace_lookalikes(&mut self, model: &str, pairs: &[Lookalike]) -> Result<()> {
        self.execute("DELETE FROM lookalikes WHERE model = ?1", [model])?;
        let mut insert = self
            .tx
            .prepare("INSERT OR REPLACE INTO lookalikes (code_a, code_b, model, score) VALUES (?1, ?2, ?3, ?4)")
            .map_err(|e| self.fail(e))?;
        for p in pairs {
            let (a, b) = if p.a < p.b { (&p.a, &p.b) } else { (&p.b, &p.a) };
            insert.execute(params![a, b, model, p.score]).map_err(|e| super::store_error(&self.path, e))?;
        }
        Ok(())
    }

    /// Takes a delegate off the roster: their face templates and snapshots go,
    /// and so does the delegate unless they attended a session, whose lists
    /// must stay whole.
    pub fn remove_delegate(&mut self, code: &str, reason: &str) -> Result<Removal> {
        let name: Option<String> = self
            .tx
            .query_row("SELECT name FROM delegates WHERE code = ?1 AND removed_at IS NULL", [code], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))?;
        let Some(name) = name else { return Ok(Removal::NotOnRoster) };
        let attended: usize = self
            .tx
            .query_row("SELECT count(*) FROM attendance WHERE delegate_code = ?1", [code], |r| r.get(0))
            .map_err(|e| self.fail(e))?;
        let templates = self.execute("DELETE FROM templates WHERE delegate_code = ?1", [code])?;
        self.execute("DELETE FROM lookalikes WHERE ?1 IN (code_a, code_b)", [code])?;
        let removal = if attended == 0 {
            self.execute("DELETE FROM delegates WHERE code = ?1", [code])?;
            Removal::Deleted
        } else {
            self.execute("UPDATE delegates SET removed_at = ?2 WHERE code = ?1", params![code, self.now])?;
            self.execute("UPDATE attendance SET snapshot = NULL WHERE delegate_code = ?1", [code])?;
            Removal::KeptForAttendance { sessions: attended }
        };
        let detail = serde_json::json!({"code": code, "name": name, "reason": reason, "templates": templates,
            "removal": removal});
        self.audit("remove_delegate", &detail.to_string())?;
        Ok(removal)
    }
}

fn read_delegate(row: &rusqlite::Row) -> rusqlite::Result<Delegate> {
    let extra: String = row.get(4)?;
    Ok(Delegate {
        code: row.get(0)?,
        name: row.get(1)?,
        delegation: row.get(2)?,
        seat: row.get(3)?,
        extra: serde_json::from_str(&extra).unwrap_or_default(),
    })
}

fn embedding_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn blob_to_embedding(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_round_trip_through_blobs() {
        let v = vec![0.25f32, -1.5, 3.0e-7];
        assert_eq!(blob_to_embedding(&embedding_to_blob(&v)), v);
    }
}
