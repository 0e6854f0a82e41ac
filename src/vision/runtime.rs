//! ONNX Runtime: finding the shared library, one process-wide environment,
//! and a thread-safe session per model, built once and reused.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use ndarray::{ArrayView4, ArrayViewD};
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;

use crate::error::{Error, Result};

/// The ONNX Runtime release tools/setup.sh installs; the program looks for
/// exactly this file so that a stray system library of another version is not picked up.
pub const ORT_LIBRARY: &str = "libonnxruntime.so.1.32.0";

/// Where the library is looked for: the configured file alone, or beside the
/// program, then in the kiosk folder's `.ort/` (see `home`).
pub fn library_candidates(configured: &Path) -> Vec<PathBuf> {
    if !configured.as_os_str().is_empty() {
        return vec![configured.to_path_buf()];
    }
    let mut out = Vec::new();
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        out.push(dir.join(ORT_LIBRARY));
    }
    out.push(crate::home::path(".ort").join(ORT_LIBRARY));
    // Where the Debian package puts it: architecture-dependent, so not with the models.
    out.push(PathBuf::from("/usr/lib/kiosk").join(ORT_LIBRARY));
    out
}

static ENVIRONMENT: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();

/// Loads ONNX Runtime once per process; later calls reuse it (the library
/// cannot be swapped once loaded, so the first caller's path wins).
pub fn environment(configured: &Path) -> Result<&'static Environment> {
    ENVIRONMENT
        .get_or_init(|| {
            let candidates = library_candidates(configured);
            let Some(lib) = candidates.iter().find(|p| p.is_file()) else {
                return Err(format!(
                    "ONNX Runtime library not found (looked for {}).\nRun tools/setup.sh from the project folder: it fetches {ORT_LIBRARY} from the onnxruntime package on PyPI into .ort/.",
                    candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                ));
            };
            let builder = ort::init_from(lib).map_err(|e| {
                format!(
                    "{} could not be loaded as ONNX Runtime: {e}.\nDelete it and run tools/setup.sh to fetch a fresh copy.",
                    lib.display()
                )
            })?;
            builder.with_name("kiosk").build().map_err(|e| format!("ONNX Runtime did not start: {e}"))
        })
        .as_ref()
        // The first failure is cached as text: an `ort::Error` cannot be shared between callers.
        .map_err(|e| Error::Runtime { message: e.clone(), source: None })
}

/// A loaded model: one session, or several for batch work where every core
/// runs a photo of its own. `ort` sessions need `&mut` to run, so a caller
/// takes a free session, or waits its turn for one.
pub struct Model {
    name: String,
    sessions: Vec<Mutex<Session>>,
    runs: AtomicU64,
}

impl Model {
    /// `copies` sessions, each running on `threads` intra-op threads.
    pub fn load(path: &Path, threads: usize, copies: usize, runtime_lib: &Path) -> Result<Self> {
        let env = environment(runtime_lib)?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        if !path.is_file() {
            return Err(Error::Model {
                message: format!(
                    "model file {} is missing.\nRestore it with `git checkout -- models/` or rebuild it with tools/build_models.sh.",
                    path.display()
                ),
                source: None,
            });
        }
        let open = || {
            Session::builder(env)
                .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::Level3)?))
                .and_then(|b| Ok(b.with_intra_threads(threads)?))
                // Workers that spin between the operators of a run save a wake-up
                // each (embedding 21 -> 15 ms on two cores); but left spinning
                // after it, the detector's workers fight the embedder's over the
                // cores (a full pass took 40 ms). So they spin, and stop at the end.
                .and_then(|b| Ok(b.with_intra_op_spinning(threads > 1)?))
                .and_then(|b| Ok(b.with_config_entry("session.force_spinning_stop", "1")?))
                .and_then(|mut b| b.commit_from_file(path))
                .map(Mutex::new)
                .map_err(|e| {
                    Error::model(
                        format!(
                            "model file {} could not be loaded: {e}\nIt is damaged or not an ONNX model: restore it with `git checkout -- models/` or rebuild it with tools/build_models.sh.",
                            path.display()
                        ),
                        e,
                    )
                })
        };
        let sessions = (0..copies.max(1)).map(|_| open()).collect::<Result<Vec<_>>>()?;
        Ok(Self { name, sessions, runs: AtomicU64::new(0) })
    }

    /// A free session, or (all busy) the next one in turn.
    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        for s in &self.sessions {
            if let Ok(guard) = s.try_lock() {
                return guard;
            }
        }
        let turn = self.runs.load(Ordering::Relaxed) as usize % self.sessions.len();
        self.sessions[turn].lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many times the model has run: what a frame costs, countable.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Input shapes as the model declares them (-1 for a free dimension).
    pub fn input_shape(&self) -> Vec<i64> {
        let session = self.session();
        session.inputs()[0].dtype().tensor_shape().map(|s| s.to_vec()).unwrap_or_default()
    }

    pub fn output_shapes(&self) -> Vec<Vec<i64>> {
        let session = self.session();
        session.outputs().iter().map(|o| o.dtype().tensor_shape().map(|s| s.to_vec()).unwrap_or_default()).collect()
    }

    /// Runs the model on one NCHW input and hands every output to `read`
    /// while the session is still held, so nothing is copied twice.
    pub fn run<T>(&self, input: ArrayView4<f32>, read: impl FnOnce(&[ArrayViewD<f32>]) -> T) -> Result<T> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        let fail = |e: ort::Error| Error::model(format!("{}: {e}", self.name), e);
        let mut session = self.session();
        let tensor = TensorRef::from_array_view(input).map_err(fail)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(fail)?;
        let views = (0..outputs.len())
            .map(|i| outputs[i].try_extract_array::<f32>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(fail)?;
        Ok(read(&views))
    }
}
