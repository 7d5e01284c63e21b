use thiserror::Error;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(
        "No vector extension found: install pgvector (`vector`) or VectorChord (`vchord`) in PostgreSQL, \
         or set DB_VECTOR_EXTENSION"
    )]
    NoVectorExtension,
    #[error("vector extension `{0}` is not available in this PostgreSQL server")]
    VectorExtensionUnavailable(&'static str),
    #[error(
        "The database was brought to a newer schema than this Darkroom knows (its migration {version} \
         `{description}`); nothing was changed. Start the Darkroom version that did it, or restore a \
         backup taken before the upgrade."
    )]
    DatabaseNewer { version: i64, description: String },
    #[error("{0}")]
    Conflict(&'static str),
    /// A row the caller was sure of is gone (deleted meanwhile).
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

impl StorageError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether trying again later may succeed: the database was unreachable or busy, or chose
    /// this transaction to fail (serialization failure, deadlock), or a file write was cut short.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed,
            ) => true,
            // 40001 serialization failure, 40P01 deadlock, 57P01 admin shutdown, 53xxx out of resources.
            Self::Database(sqlx::Error::Database(e)) => e
                .code()
                .is_some_and(|code| matches!(code.as_ref(), "40001" | "40P01" | "57P01") || code.starts_with("53")),
            Self::Io { source, .. } => !matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ),
            _ => false,
        }
    }

    /// Name of the violated unique constraint, when this is a unique violation.
    pub fn unique_violation(&self) -> Option<&str> {
        match self {
            Self::Database(sqlx::Error::Database(e)) if e.is_unique_violation() => e.constraint(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passing_trouble_is_transient() {
        assert!(StorageError::Database(sqlx::Error::PoolTimedOut).is_transient());
        assert!(!StorageError::Database(sqlx::Error::RowNotFound).is_transient());
        assert!(!StorageError::Conflict("taken").is_transient());
        let io = |kind| StorageError::io("writing", std::io::Error::from(kind));
        assert!(io(std::io::ErrorKind::StorageFull).is_transient());
        assert!(!io(std::io::ErrorKind::NotFound).is_transient());
    }
}
