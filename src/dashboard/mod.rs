//! `kiosk dashboard`: the secretariat's live page, on a ledger or on a single
//! file. Server-rendered HTML with a few lines of script that take the
//! figures pushed as server-sent events, so the page changes within a second
//! of a check-in without a reload, and no build step is needed. Reading
//! needs no login; check-in and undo need the admin PIN.

pub mod clerk;
pub mod figures;
pub mod page;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use crossbeam_channel::Sender;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{oneshot, watch};

use crate::error::{Error, Result};
use crate::secretariat::{EventConfig, papers};
use crate::text::Lang;
use clerk::{Clerk, Job, ListFormat};
use figures::Figures;

pub struct Options {
    /// The single file, or the ledger's local copy (a scratch file when None).
    pub db: Option<PathBuf>,
    pub ledger: Option<String>,
    /// The session shown when the address names none.
    pub session: String,
    pub listen: String,
    pub event: EventConfig,
    pub pin_hash: String,
}

struct Shared {
    clerk: Sender<Job>,
    ticks: watch::Receiver<u64>,
    session: String,
    event_name: String,
}

type App = Arc<Shared>;

/// Serves until the process is stopped.
pub fn serve(opts: Options) -> Result<()> {
    let scratch = tempfile::tempdir().map_err(|e| Error::io(std::path::Path::new("temporary folder"), e))?;
    let db = match (&opts.db, &opts.ledger) {
        (Some(db), _) => db.clone(),
        (None, Some(_)) => scratch.path().join("dashboard.db"),
        (None, None) => return Err(Error::Input("the dashboard needs --db FILE or --ledger URL".into())),
    };
    if opts.ledger.is_none() && !db.is_file() {
        return Err(Error::Input(format!("database {} does not exist: enrol a roster into it first", db.display())));
    }
    let clerk = Clerk::open(db, opts.ledger.clone(), opts.event.clone(), opts.pin_hash.clone())?;
    let (jobs, inbox) = crossbeam_channel::unbounded();
    let (ring, ticks) = watch::channel(0u64);
    let worker = std::thread::Builder::new()
        .name("clerk".into())
        .spawn(move || clerk.work(inbox, ring))
        .map_err(|e| Error::io(std::path::Path::new("clerk thread"), e))?;
    let app =
        Arc::new(Shared { clerk: jobs, ticks, session: opts.session.clone(), event_name: opts.event.name.clone() });
    let router = Router::new()
        .route("/", get(home))
        .route("/api/stats", get(stats))
        .route("/events", get(events))
        .route("/list.csv", get(list_csv))
        .route("/list.xlsx", get(list_xlsx))
        .route("/list.pdf", get(list_pdf))
        .route("/report.pdf", get(report_pdf))
        .route("/checkin", post(check_in))
        .route("/undo", post(undo))
        .with_state(app);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io(std::path::Path::new("web server"), e))?;
    let listen = opts.listen.clone();
    let served: std::io::Result<()> = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        eprintln!("dashboard: http://{}/ (Ctrl-C stops it)", listener.local_addr()?);
        axum::serve(listener, router).await
    });
    drop(worker);
    served.map_err(|e| {
        Error::Input(format!("cannot serve on {}: {e} (is the port taken? try another --listen)", opts.listen))
    })
}

#[derive(Deserialize, Default)]
struct Params {
    session: Option<String>,
    lang: Option<String>,
    view: Option<String>,
}

impl Params {
    fn session(&self, app: &Shared) -> String {
        self.session.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| app.session.clone())
    }
}

/// One job for the clerk, awaited.
async fn ask<T>(
    app: &Shared,
    job: impl FnOnce(oneshot::Sender<std::result::Result<T, String>>) -> Job,
) -> std::result::Result<T, String> {
    let (answer, answered) = oneshot::channel();
    app.clerk.send(job(answer)).map_err(|_| "the dashboard is stopping".to_string())?;
    answered.await.map_err(|_| "the dashboard is stopping".to_string())?
}

async fn figures(app: &Shared, session: String) -> std::result::Result<Figures, String> {
    ask(app, |answer| Job::Figures { session, answer }).await
}

fn failure(status: StatusCode, message: String) -> Response {
    (status, message).into_response()
}

async fn home(State(app): State<App>, Query(p): Query<Params>) -> Response {
    let session = p.session(&app);
    let lang = Lang::parse(p.lang.as_deref().unwrap_or("vi"));
    let projector = p.view.as_deref() == Some("projector");
    let sessions = ask(&app, |answer| Job::Sessions { answer }).await.unwrap_or_default();
    match figures(&app, session).await {
        Ok(f) => Html(page::render(&app.event_name, &f, &sessions, lang, projector)).into_response(),
        Err(e) => failure(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn stats(State(app): State<App>, Query(p): Query<Params>) -> Response {
    match figures(&app, p.session(&app)).await {
        Ok(f) => axum::Json(f).into_response(),
        Err(e) => failure(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

/// The figures each time they change (and once at the start).
async fn events(
    State(app): State<App>,
    Query(p): Query<Params>,
) -> Sse<impl Stream<Item = std::result::Result<Event, Infallible>>> {
    let session = p.session(&app);
    let ticks = app.ticks.clone();
    let start = (app, session, ticks, String::new(), true);
    let stream = futures_util::stream::unfold(start, |(app, session, mut ticks, last, first)| async move {
        let mut first = first;
        loop {
            if !first && ticks.changed().await.is_err() {
                return None;
            }
            first = false;
            let Ok(f) = figures(&app, session.clone()).await else { continue };
            let json = serde_json::to_string(&f).unwrap_or_default();
            if json != last {
                let event = Event::default().event("figures").data(json.clone());
                return Some((Ok(event), (app, session, ticks, json, false)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn list(app: App, p: Params, format: ListFormat) -> Response {
    let session = p.session(&app);
    let (name, ext, mime) = match format {
        ListFormat::Csv => ("attendance", "csv", "text/csv; charset=utf-8"),
        ListFormat::Xlsx => ("attendance", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ListFormat::Pdf => ("attendance", "pdf", "application/pdf"),
        ListFormat::Report => ("credentials", "pdf", "application/pdf"),
    };
    let file = papers::file_name(name, &session, ext);
    let lang = Lang::parse(p.lang.as_deref().unwrap_or("vi"));
    match ask(&app, |answer| Job::List { session, format, lang, answer }).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, mime.to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => failure(StatusCode::NOT_FOUND, e),
    }
}

async fn list_csv(State(app): State<App>, Query(p): Query<Params>) -> Response {
    list(app, p, ListFormat::Csv).await
}

async fn list_xlsx(State(app): State<App>, Query(p): Query<Params>) -> Response {
    list(app, p, ListFormat::Xlsx).await
}

async fn list_pdf(State(app): State<App>, Query(p): Query<Params>) -> Response {
    list(app, p, ListFormat::Pdf).await
}

async fn report_pdf(State(app): State<App>, Query(p): Query<Params>) -> Response {
    list(app, p, ListFormat::Report).await
}

#[derive(Deserialize)]
struct StaffForm {
    session: String,
    code: String,
    pin: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    lang: String,
}

async fn check_in(State(app): State<App>, Form(f): Form<StaffForm>) -> Response {
    let lang = Lang::parse(&f.lang);
    let code = f.code.trim().to_string();
    let out = ask(&app, |answer| Job::CheckIn { session: f.session.clone(), code, pin: f.pin, answer }).await;
    Html(page::outcome(&f.session, lang, out)).into_response()
}

async fn undo(State(app): State<App>, Form(f): Form<StaffForm>) -> Response {
    let lang = Lang::parse(&f.lang);
    let reason = if f.reason.trim().is_empty() { "undone by the secretariat (dashboard)".into() } else { f.reason };
    let code = f.code.trim().to_string();
    let out = ask(&app, |answer| Job::Undo { session: f.session.clone(), code, pin: f.pin, reason, answer }).await;
    Html(page::outcome(&f.session, lang, out)).into_response()
}
