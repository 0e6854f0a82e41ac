//! `kiosk dashboard`: the secretariat's live page, on a ledger or on a single
//! file. Server-rendered HTML with a few lines of script that take the
//! figures pushed as server-sent events, so the page changes within a second
//! of a check-in without a reload, and no build step is needed. The hall's
//! network is shared with strangers: reading needs the viewer key (`key`),
//! check-in and undo need the admin PIN as well, and a client that guesses
//! PINs is shut out (`base::pin::PinGate`).

pub mod charts;
pub mod clerk;
pub mod figures;
pub mod key;
pub mod page;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use crossbeam_channel::Sender;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{oneshot, watch};

use crate::base::pin::{PinGate, verify_pin};
use crate::error::{Error, Result};
use crate::secretariat::{EventConfig, papers};
use crate::text::Lang;
use clerk::{Clerk, Job, ListFormat};
use figures::Figures;

/// A request's headers must all arrive within this: half-sent requests
/// left open by a client do not pile up.
const HEADERS_WITHIN: Duration = Duration::from_secs(10);
/// The cookie that keeps the viewer key after `?key=`.
const COOKIE: &str = "kiosk_view";

pub struct Options {
    /// The single file, or the ledger's local copy (a scratch file when None).
    pub db: Option<PathBuf>,
    pub ledger: Option<String>,
    /// The session shown when the address names none.
    pub session: String,
    pub listen: String,
    pub event: EventConfig,
    pub pin_hash: String,
    /// The file of the viewer key every reader must bring (`key`), read
    /// at each request so that a new key shuts the old links out at once;
    /// None serves the page to anyone who reaches the port (`--open`, a
    /// projector on a closed network).
    pub key_file: Option<PathBuf>,
    /// The page over HTTPS: a certificate (chain) and its key, PEM.
    pub tls: Option<(PathBuf, PathBuf)>,
}

struct Shared {
    clerk: Sender<Job>,
    ticks: watch::Receiver<u64>,
    session: String,
    event: EventConfig,
    key_file: Option<PathBuf>,
    pin_hash: String,
    pins: Mutex<PinGate>,
    /// Served over HTTPS: the cookie is never sent over plain HTTP.
    secure: bool,
}

type App = Arc<Shared>;

/// Serves until the process is stopped.
pub fn serve(opts: Options) -> Result<()> {
    let scratch = crate::base::scratch::folder()?;
    let db = match (&opts.db, &opts.ledger) {
        (Some(db), _) => db.clone(),
        (None, Some(_)) => scratch.path().join("dashboard.db"),
        (None, None) => return Err(Error::Input("the dashboard needs --db FILE or --ledger URL".into())),
    };
    if opts.ledger.is_none() && !db.is_file() {
        return Err(Error::Input(format!("database {} does not exist: enrol a roster into it first", db.display())));
    }
    let clerk = Clerk::open(db, opts.ledger.clone(), opts.event.clone())?;
    let (jobs, inbox) = crossbeam_channel::unbounded();
    let (ring, ticks) = watch::channel(0u64);
    let worker = std::thread::Builder::new()
        .name("clerk".into())
        .spawn(move || clerk.work(inbox, ring))
        .map_err(|e| Error::io(std::path::Path::new("clerk thread"), e))?;
    let app = Arc::new(Shared {
        clerk: jobs,
        ticks,
        session: opts.session.clone(),
        event: opts.event.clone(),
        key_file: opts.key_file.clone(),
        pin_hash: opts.pin_hash.clone(),
        pins: Mutex::default(),
        secure: opts.tls.is_some(),
    });
    let router = Router::new()
        .route("/", get(home))
        .route("/page.js", get(script))
        .route("/api/stats", get(stats))
        .route("/events", get(events))
        .route("/arrivals.svg", get(arrivals_svg))
        .route("/delegations.svg", get(delegations_svg))
        .route("/hall.svg", get(hall_svg))
        .route("/list.csv", get(list_csv))
        .route("/list.xlsx", get(list_xlsx))
        .route("/list.pdf", get(list_pdf))
        .route("/report.pdf", get(report_pdf))
        .route("/checkin", post(check_in))
        .route("/undo", post(undo))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io(std::path::Path::new("web server"), e))?;
    let listen = opts.listen.clone();
    let open = opts.key_file.is_none();
    let tls = match &opts.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let served: std::io::Result<()> = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        let address = listener.local_addr()?;
        if open {
            eprintln!("dashboard: {scheme}://{address}/ — OPEN: anyone who reaches this port sees the names (Ctrl-C stops it)");
        } else {
            eprintln!(
                "dashboard: {scheme}://{address}/ — readers need the viewer key: `kiosk dashboard key` prints the link (Ctrl-C stops it)"
            );
        }
        accept(listener, router, tls).await
    });
    drop(worker);
    served.map_err(|e| {
        Error::Input(format!("cannot serve on {}: {e} (is the port taken? try another --listen)", opts.listen))
    })
}

/// Serves each connection with a bound on reading its headers (hyper's,
/// which `axum::serve` does not set), over TLS when `tls` is given.
async fn accept(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> std::io::Result<()> {
    use tower::Service;
    let mut make = router.into_make_service_with_connect_info::<SocketAddr>();
    loop {
        let (stream, address) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file handles, say: wait rather than spin.
            Err(e) => {
                tracing::warn!("dashboard: cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(service) = make.call(address).await;
        let tls = tls.clone();
        tokio::spawn(async move {
            let served = match tls {
                None => serve_one(stream, service).await,
                // The handshake is bounded like the headers that follow it.
                Some(tls) => match tokio::time::timeout(HEADERS_WITHIN, tls.accept(stream)).await {
                    Ok(Ok(stream)) => serve_one(stream, service).await,
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("no TLS handshake within the bound".into()),
                },
            };
            if let Err(e) = served {
                tracing::debug!("dashboard: connection from {address}: {e}");
            }
        });
    }
}

async fn serve_one<S, T>(stream: S, service: T) -> std::result::Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tower::Service<axum::http::Request<hyper::body::Incoming>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    T::Future: Send + 'static,
{
    hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADERS_WITHIN)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(service))
        .await
        .map_err(|e| e.to_string())
}

/// The page's TLS, from a certificate (chain) and its key in PEM files, as
/// `tools/ledger-tls.sh` makes them.
fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &std::path::Path, e: &dyn std::fmt::Display| {
        Error::Config(format!("the dashboard's TLS file {}: {e}", what.display()))
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, &e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, &e))?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
    // ring: see ledger::link for why not aws-lc-rs.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("the dashboard's TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| bad(cert, &e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Every answer: the viewer key asked for (unless the page is open), a
/// POST only from the page itself, and headers that keep the page from
/// being framed, sniffed or leaking its address.
async fn guard(State(app): State<App>, request: Request, next: Next) -> Response {
    let mut response = match admitted(&app, &request) {
        Admission::In => next.run(request).await,
        Admission::KeyGiven { key, back_to } => {
            let mut r = Redirect::to(&back_to).into_response();
            let secure = if app.secure { "; Secure" } else { "" };
            let cookie = format!("{COOKIE}={key}; HttpOnly; SameSite=Strict; Path=/{secure}");
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Admission::NoKey => (StatusCode::UNAUTHORIZED, Html(page::key_needed())).into_response(),
        Admission::OtherOrigin => {
            failure(StatusCode::FORBIDDEN, "refused: a form must be sent from the dashboard's own page".into())
        }
    };
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

enum Admission {
    In,
    /// The right `?key=`: kept in a cookie, and the address shown again without it.
    KeyGiven {
        key: String,
        back_to: String,
    },
    NoKey,
    OtherOrigin,
}

fn admitted(app: &Shared, request: &Request) -> Admission {
    if request.method() == Method::POST && !same_origin(request.headers()) {
        return Admission::OtherOrigin;
    }
    let Some(file) = &app.key_file else { return Admission::In };
    // Read at each request: a new key (`--new`, or a removed file made anew)
    // shuts the old links out at once; a damaged one lets nobody in.
    let Ok(key) = key::open_or_create(file, false) else { return Admission::NoKey };
    let query: Vec<(String, String)> =
        request.uri().query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    if query.iter().any(|(k, v)| k == "key" && key::matches(v, &key)) {
        let rest: Vec<&(String, String)> = query.iter().filter(|(k, _)| k != "key").collect();
        let rest = form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
        let path = request.uri().path();
        let back_to = if rest.is_empty() { path.to_string() } else { format!("{path}?{rest}") };
        return Admission::KeyGiven { key, back_to };
    }
    let cookies = request.headers().get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    let brought = cookies.flat_map(|c| c.split(';')).filter_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='));
    if brought.into_iter().any(|v| key::matches(v, &key)) { Admission::In } else { Admission::NoKey }
}

/// A browser names the page a form was sent from: it must be this server's.
fn same_origin(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST)) else { return false };
    let (Ok(origin), Ok(host)) = (origin.to_str(), host.to_str()) else { return false };
    origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
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

    /// Vietnamese unless `?lang=en`.
    fn lang(&self) -> Lang {
        Lang::parse(self.lang.as_deref().unwrap_or("vi"))
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
    let lang = p.lang();
    let projector = p.view.as_deref() == Some("projector");
    let sessions = ask(&app, |answer| Job::Sessions { answer }).await.unwrap_or_default();
    match figures(&app, session).await {
        Ok(f) => Html(page::render(&app.event.name, &f, &sessions, lang, projector)).into_response(),
        Err(e) => failure(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn stats(State(app): State<App>, Query(p): Query<Params>) -> Response {
    match figures(&app, p.session(&app)).await {
        Ok(f) => axum::Json(f).into_response(),
        Err(e) => failure(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

fn svg(body: String) -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response()
}

async fn chart(app: App, p: Params, draw: fn(&Figures, Lang) -> String) -> Response {
    let lang = p.lang();
    match figures(&app, p.session(&app)).await {
        Ok(f) => svg(draw(&f, lang)),
        Err(e) => failure(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn arrivals_svg(State(app): State<App>, Query(p): Query<Params>) -> Response {
    chart(app, p, charts::arrivals).await
}

async fn delegations_svg(State(app): State<App>, Query(p): Query<Params>) -> Response {
    chart(app, p, charts::delegations).await
}

/// The hall live, each seat present or absent.
async fn hall_svg(State(app): State<App>, Query(p): Query<Params>) -> Response {
    let (session, lang) = (p.session(&app), p.lang());
    match ask(&app, |answer| Job::Hall { session, lang, answer }).await {
        Ok(drawing) => svg(drawing.svg(18.0)),
        Err(e) => failure(StatusCode::NOT_FOUND, e),
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
    let lang = p.lang();
    let read = match ask(&app, |answer| Job::Papers { session, answer }).await {
        Ok(read) => read,
        Err(e) => return failure(StatusCode::NOT_FOUND, e),
    };
    let event = app.event.clone();
    let drawn = tokio::task::spawn_blocking(move || clerk::render(&read, format, lang, &event)).await;
    match drawn {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, mime.to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => failure(StatusCode::INTERNAL_SERVER_ERROR, format!("the papers could not be drawn: {e}")),
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

/// The admin PIN of a staff form from `client`, checked off the runtime's
/// threads (Argon2 is slow on purpose). A wrong one, or any one from a
/// client shut out for too many, is audited and answered here.
async fn pin_checked(app: &Shared, client: SocketAddr, pin: String, session: &str, lang: Lang) -> Option<Response> {
    let who = client.ip().to_string();
    let begun = app.pins.lock().unwrap_or_else(|p| p.into_inner()).begin(&who, Instant::now());
    let refusal = match begun {
        Err(_) => Some((StatusCode::TOO_MANY_REQUESTS, true)),
        Ok(()) => {
            let hash = app.pin_hash.clone();
            let right = tokio::task::spawn_blocking(move || verify_pin(&pin, &hash)).await.unwrap_or(false);
            app.pins.lock().unwrap_or_else(|p| p.into_inner()).end(&who, right, Instant::now());
            (!right).then_some((StatusCode::FORBIDDEN, false))
        }
    };
    let (status, shut_out) = refusal?;
    tracing::warn!(client = %who, shut_out, "dashboard: admin PIN refused");
    let _ = ask(app, |answer| Job::PinRefused { client: who, shut_out, answer }).await;
    let said = if shut_out { page::Refusal::ShutOut } else { page::Refusal::WrongPin };
    Some((status, Html(page::outcome(session, lang, Err(page::refusal(said, lang))))).into_response())
}

async fn check_in(
    State(app): State<App>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Form(f): Form<StaffForm>,
) -> Response {
    let lang = Lang::parse(&f.lang);
    if let Some(refused) = pin_checked(&app, client, f.pin, &f.session, lang).await {
        return refused;
    }
    let code = f.code.trim().to_string();
    let out = ask(&app, |answer| Job::CheckIn { session: f.session.clone(), code, answer }).await;
    Html(page::outcome(&f.session, lang, out)).into_response()
}

async fn undo(
    State(app): State<App>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Form(f): Form<StaffForm>,
) -> Response {
    let lang = Lang::parse(&f.lang);
    if let Some(refused) = pin_checked(&app, client, f.pin, &f.session, lang).await {
        return refused;
    }
    let reason = if f.reason.trim().is_empty() { "undone by the secretariat (dashboard)".into() } else { f.reason };
    let code = f.code.trim().to_string();
    let out = ask(&app, |answer| Job::Undo { session: f.session.clone(), code, reason, answer }).await;
    Html(page::outcome(&f.session, lang, out)).into_response()
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], page::SCRIPT).into_response()
}
