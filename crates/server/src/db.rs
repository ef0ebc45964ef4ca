//! The server's database: SQLite (one file, the default) or PostgreSQL (several instances
//! can share it). One set of queries serves both through sqlx's `Any` driver; each engine
//! has its own migrations. Queries use `$N` placeholders, numbered in order of first use,
//! which both engines read the same way.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Transaction};

use crate::Error;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub engine: Engine,
}

impl Db {
    /// Connects (creating a SQLite file if missing) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        sqlx::any::install_default_drivers();
        let (engine, url) = if let Some(rest) = url.strip_prefix("sqlite://") {
            let sep = if rest.contains('?') { '&' } else { '?' };
            (Engine::Sqlite, format!("sqlite://{rest}{sep}mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Engine::Postgres, url.to_owned())
        } else {
            return Err(Error::DbUrl(redact(url)));
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|_| Error::DbUrl(redact(&url)))?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(if engine == Engine::Sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL lets pulls read while a push writes; NORMAL syncs at checkpoints,
                        // which a server crash (not a power cut) cannot lose.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        // Deleted text is overwritten, not left in free pages: what an
                        // upgrade to end-to-end encryption drops must not stay in the file.
                        sqlx::query("PRAGMA secure_delete = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|source| Error::DbConnect {
                url: redact(&url),
                source,
            })?;
        let migrator = match engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        Ok(Self { pool, engine })
    }

    /// A write transaction. On SQLite it takes the write lock up front, so concurrent
    /// writers queue on the busy timeout instead of failing when a read turns into a write.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        }
    }
}

impl Engine {
    /// The placeholder of the `n`th bound value (counting from 1). SQLite gets anonymous
    /// `?`s: sqlx asks SQLite the name of every `$N` of a statement, a lookup that walks a
    /// list of the names, so a multi-row statement of thousands of `$N`s spent more time
    /// binding than writing. A statement written with these must use each value once, in
    /// order of binding (which the numbered form allows but does not require).
    pub fn param(self, n: usize) -> String {
        match self {
            Engine::Sqlite => "?".to_owned(),
            Engine::Postgres => format!("${n}"),
        }
    }

    /// `count` placeholders for an `IN (...)` list, from the `first`th bound value.
    pub fn in_list(self, count: usize, first: usize) -> String {
        (first..first + count)
            .map(|n| self.param(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `rows` tuples of `columns` placeholders for a multi-row insert, from the `first`th
    /// bound value, row by row.
    pub fn values_list(self, rows: usize, columns: usize, first: usize) -> String {
        (0..rows)
            .map(|row| format!("({})", self.in_list(columns, first + row * columns)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `$first, $first+1, ...`: `count` placeholders for an `IN (...)` list.
pub fn in_list(count: usize, first: usize) -> String {
    Engine::Postgres.in_list(count, first)
}

/// `($1, $2), ($3, $4)`: `rows` tuples of `columns` placeholders for a multi-row insert,
/// numbered from `first` in order of use (which is how both engines read them).
pub fn values_list(rows: usize, columns: usize, first: usize) -> String {
    Engine::Postgres.values_list(rows, columns, first)
}

/// A database URL fit for logs and messages: no password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;
    use super::{in_list, values_list, Engine};

    #[test]
    fn placeholders_are_numbered_in_order_of_use() {
        assert_eq!(in_list(3, 2), "$2, $3, $4");
        assert_eq!(values_list(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values_list(1, 2, 5), "($5, $6)");
        assert_eq!(Engine::Sqlite.values_list(2, 2, 3), "(?, ?), (?, ?)");
        assert_eq!(Engine::Sqlite.in_list(2, 1), "?, ?");
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://quire:s3cret@db:5432/quire"),
            "postgres://quire:***@db:5432/quire"
        );
        assert_eq!(
            redact("sqlite:///var/lib/quire/server.db"),
            "sqlite:///var/lib/quire/server.db"
        );
    }
}
