//! Activities and tags through real HTTP, on SQLite and PostgreSQL.
