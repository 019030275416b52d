//! Projects, teams, tasks, dependencies and worklogs through real HTTP, on SQLite and PostgreSQL.
