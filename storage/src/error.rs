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
    #[error("{0}")]
    Conflict(&'static str),
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

    /// Name of the violated unique constraint, when this is a unique violation.
    pub fn unique_violation(&self) -> Option<&str> {
        match self {
            Self::Database(sqlx::Error::Database(e)) if e.is_unique_violation() => e.constraint(),
            _ => None,
        }
    }
}
