//! The ledger's connection: tokio-postgres on a small runtime of its own,
//! with every step bounded. A server frozen by SIGSTOP, or a port that
//! accepts and never answers, still takes the TCP connection and then says
//! nothing: without a bound on the TLS handshake, the login and each
//! statement, every command (and the dashboard) would wait for ever.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{AsyncMessage, Notification, RowStream, Socket};

pub use tokio_postgres::Row;
pub use tokio_postgres::error::{DbError, SqlState};
pub use tokio_postgres::types::ToSql;

pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// What went wrong on the link: the server's own error, or its silence.
#[derive(Debug)]
pub enum PgError {
    Server(tokio_postgres::Error),
    /// Nothing came back within the bound.
    Silent {
        after: Duration,
    },
    /// This machine could not start the connection's runtime.
    Local(std::io::Error),
}

impl PgError {
    pub fn as_db_error(&self) -> Option<&DbError> {
        match self {
            PgError::Server(e) => e.as_db_error(),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&SqlState> {
        match self {
            PgError::Server(e) => e.code(),
            _ => None,
        }
    }

    /// The link is gone (closed, cut, or silent): a new connection is needed.
    pub fn is_link(&self) -> bool {
        match self {
            PgError::Server(e) => e.is_closed() || e.as_db_error().is_none(),
            PgError::Silent { .. } => true,
            PgError::Local(_) => false,
        }
    }
}

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgError::Server(e) => {
                // tokio-postgres says "error connecting to server" and keeps the cause below.
                write!(f, "{e}")?;
                let mut cause = std::error::Error::source(e);
                while let Some(c) = cause {
                    write!(f, ": {c}")?;
                    cause = c.source();
                }
                Ok(())
            }
            PgError::Silent { after } => write!(f, "no answer within {} s", after.as_secs_f32()),
            PgError::Local(e) => write!(f, "cannot start the connection: {e}"),
        }
    }
}

impl std::error::Error for PgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PgError::Server(e) => Some(e),
            PgError::Local(e) => Some(e),
            PgError::Silent { .. } => None,
        }
    }
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        PgError::Server(e)
    }
}

pub type PgResult<T> = std::result::Result<T, PgError>;

/// `f`, run to its end or for `bound` at most.
fn bounded<T>(rt: &Runtime, bound: Duration, f: impl Future<Output = Result<T, tokio_postgres::Error>>) -> PgResult<T> {
    // The timer is made inside the runtime, which owns the clock.
    match rt.block_on(async { tokio::time::timeout(bound, f).await }) {
        Ok(out) => Ok(out?),
        Err(_) => Err(PgError::Silent { after: bound }),
    }
}

/// A connection to the ledger; every call returns within its bound.
pub struct Pg {
    rt: Runtime,
    client: tokio_postgres::Client,
    notes: mpsc::UnboundedReceiver<Notification>,
    statement: Duration,
}

impl Pg {
    /// Connects, with TLS as `tls` says: the TCP connection, the handshake
    /// and the login together within `connect`; then each statement within `statement`.
    pub fn connect<T>(cfg: &tokio_postgres::Config, tls: T, connect: Duration, statement: Duration) -> PgResult<Pg>
    where
        T: MakeTlsConnect<Socket> + Send + 'static,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(PgError::Local)?;
        let (client, mut connection) = bounded(&rt, connect, cfg.connect(tls))?;
        let (tx, notes) = mpsc::unbounded_channel();
        // The connection's messages are read while any call waits on this
        // runtime; notifications are kept for `notified`.
        rt.spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let AsyncMessage::Notification(n) = message {
                    let _ = tx.send(n);
                }
            }
        });
        Ok(Pg { rt, client, notes, statement })
    }

    pub fn query(&mut self, sql: &str, params: Params) -> PgResult<Vec<Row>> {
        bounded(&self.rt, self.statement, self.client.query(sql, params))
    }

    pub fn query_one(&mut self, sql: &str, params: Params) -> PgResult<Row> {
        bounded(&self.rt, self.statement, self.client.query_one(sql, params))
    }

    pub fn execute(&mut self, sql: &str, params: Params) -> PgResult<u64> {
        bounded(&self.rt, self.statement, self.client.execute(sql, params))
    }

    pub fn batch_execute(&mut self, sql: &str) -> PgResult<()> {
        bounded(&self.rt, self.statement, self.client.batch_execute(sql))
    }

    pub fn transaction(&mut self) -> PgResult<Tx<'_>> {
        let Pg { rt, client, statement, .. } = self;
        let tx = bounded(rt, *statement, client.transaction())?;
        Ok(Tx { rt, statement: *statement, tx })
    }

    /// A read-only transaction that sees one moment of the ledger throughout.
    pub fn snapshot(&mut self) -> PgResult<Tx<'_>> {
        let Pg { rt, client, statement, .. } = self;
        let start = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start();
        let tx = bounded(rt, *statement, start)?;
        Ok(Tx { rt, statement: *statement, tx })
    }

    /// The notifications that arrive within `within` (those that came
    /// together with the first are taken too).
    pub fn notified(&mut self, within: Duration) -> Vec<Notification> {
        let mut out: Vec<Notification> = self.rt.block_on(async {
            tokio::time::timeout(within, self.notes.recv()).await.ok().flatten().into_iter().collect()
        });
        while let Ok(n) = self.notes.try_recv() {
            out.push(n);
        }
        out
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// A transaction on the ledger; dropped without `commit`, it is rolled back.
pub struct Tx<'a> {
    rt: &'a Runtime,
    statement: Duration,
    tx: tokio_postgres::Transaction<'a>,
}

impl Tx<'_> {
    pub fn query(&mut self, sql: &str, params: Params) -> PgResult<Vec<Row>> {
        bounded(self.rt, self.statement, self.tx.query(sql, params))
    }

    pub fn query_one(&mut self, sql: &str, params: Params) -> PgResult<Row> {
        bounded(self.rt, self.statement, self.tx.query_one(sql, params))
    }

    pub fn query_opt(&mut self, sql: &str, params: Params) -> PgResult<Option<Row>> {
        bounded(self.rt, self.statement, self.tx.query_opt(sql, params))
    }

    pub fn execute(&mut self, sql: &str, params: Params) -> PgResult<u64> {
        bounded(self.rt, self.statement, self.tx.execute(sql, params))
    }

    pub fn batch_execute(&mut self, sql: &str) -> PgResult<()> {
        bounded(self.rt, self.statement, self.tx.batch_execute(sql))
    }

    /// The rows of `sql` one at a time, each within the bound: a table of
    /// a gigabyte is read without holding it all.
    pub fn rows(&mut self, sql: &str, params: Params) -> PgResult<Rows<'_>> {
        let stream = bounded(self.rt, self.statement, self.tx.query_raw(sql, params.iter().copied()))?;
        Ok(Rows { rt: self.rt, statement: self.statement, stream: Box::pin(stream) })
    }

    pub fn commit(self) -> PgResult<()> {
        bounded(self.rt, self.statement, self.tx.commit())
    }
}

pub struct Rows<'a> {
    rt: &'a Runtime,
    statement: Duration,
    stream: Pin<Box<RowStream>>,
}

impl Rows<'_> {
    pub fn next_row(&mut self) -> PgResult<Option<Row>> {
        let next = async { self.stream.next().await.transpose() };
        bounded(self.rt, self.statement, next)
    }
}
