//! The local state `cargo xtask dev` serves (`worker/.wrangler/state`): its D1 migrated and
//! the demo content seeded into D1 and KV before `wrangler dev` starts, in about two seconds
//! instead of eight. Each `wrangler` run costs a couple of seconds of Node start-up, so only
//! what needs wrangler goes through it:
//! - migrations: `wrangler d1 migrations apply` runs only when the local D1 lacks one of
//!   `worker/migrations/*.sql` (its `d1_migrations` table lists those applied, by name, which
//!   is what wrangler compares too);
//! - the content's SQL is run on the local D1's SQLite file directly (as the e2e stacks do):
//!   nothing has the file open before `wrangler dev` starts, and the SQL is the same
//!   upserts `wrangler d1 execute` would run;
//! - KV entries go through `wrangler kv bulk put` (KV's local layout is wrangler's own).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::content::Seed;
use crate::run::run;
use crate::tools::Tools;
use crate::{Result, at, wrangler};

/// The migration files wrangler applies, by name (`*.sql` in `dir`), sorted.
pub fn migration_names(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    Ok(names)
}

/// The SQLite file of the local D1 under `persist_to`, if it exists yet.
pub fn local_d1_file(persist_to: &Path) -> Option<PathBuf> {
    let dir = persist_to.join("v3/d1/miniflare-D1DatabaseObject");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.extension().is_some_and(|x| x == "sqlite")
                && p.file_name().is_some_and(|n| n != "metadata.sqlite")
        })
}

/// The migrations of `names` the database at `db` has not applied (all of them when it has
/// no `d1_migrations` table yet).
pub fn pending_migrations(db: &Path, names: &[String]) -> Result<Vec<String>> {
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("open {}: {e}", db.display()))?;
    let has_table = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'd1_migrations'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .map_err(|e| format!("read {}: {e}", db.display()))?
        > 0;
    let applied: Vec<String> = if has_table {
        let mut stmt = conn
            .prepare("SELECT name FROM d1_migrations")
            .map_err(|e| format!("read {}: {e}", db.display()))?;
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(|e| format!("read {}: {e}", db.display()))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| format!("read {}: {e}", db.display()))?
    } else {
        Vec::new()
    };
    Ok(names
        .iter()
        .filter(|n| !applied.contains(n))
        .cloned()
        .collect())
}

/// Migrates the local D1 under `persist_to` if it needs it, then writes `seed` into it and
/// into the local KV. Nothing may be serving from `persist_to` meanwhile.
pub fn seed(tools: &Tools, persist_to: &Path, seed: &Seed) -> Result {
    let names = migration_names(&at("worker/migrations"))?;
    let pending = match local_d1_file(persist_to) {
        Some(db) => pending_migrations(&db, &names)?,
        None => names.clone(),
    };
    if pending.is_empty() {
        println!(
            "    D1: all {} migrations already applied (wrangler d1 migrations apply skipped)",
            names.len()
        );
    } else {
        println!("    D1: applying {}", pending.join(", "));
        wrangler::migrate(tools, persist_to)?;
    }
    if !seed.sql.is_empty() {
        let db = local_d1_file(persist_to)
            .ok_or_else(|| format!("no local D1 under {} after migrating", persist_to.display()))?;
        glimpse_worker::sqlite::Sqlite::execute_file(&db, &seed.sql)
            .map_err(|e| format!("seed {}: {e}", db.display()))?;
    }
    let file = at("target/seed/dev-kv.json");
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string(&seed.kv).map_err(|e| e.to_string())?;
    std::fs::write(&file, json).map_err(|e| format!("write {}: {e}", file.display()))?;
    run(wrangler::command(tools)
        .args(["kv", "bulk", "put"])
        .arg(&file)
        .args(["--binding", "GLIMPSE", "--local", "--persist-to"])
        .arg(persist_to)
        .stdout(Stdio::null()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_migrations_are_those_the_database_has_not_recorded() {
        let dir = std::env::temp_dir().join(format!("glimpse-local-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = ["0001_init.sql", "0002_ingest.sql"]
            .map(String::from)
            .to_vec();
        let db = dir.join("d1.sqlite");
        let conn = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
        // A database wrangler has not migrated: everything is pending.
        assert_eq!(
            pending_migrations(&db, &names).unwrap_or_else(|e| panic!("{e}")),
            names
        );
        // wrangler's own table, with the first applied.
        conn.execute_batch(
            "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL);
             INSERT INTO d1_migrations (name) VALUES ('0001_init.sql');",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            pending_migrations(&db, &names).unwrap_or_else(|e| panic!("{e}")),
            ["0002_ingest.sql"]
        );
        conn.execute_batch("INSERT INTO d1_migrations (name) VALUES ('0002_ingest.sql');")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            pending_migrations(&db, &names)
                .unwrap_or_else(|e| panic!("{e}"))
                .is_empty()
        );
        // The D1 file is found next to miniflare's metadata, and only once it exists.
        let state = dir.join("state");
        assert_eq!(local_d1_file(&state), None);
        let objects = state.join("v3/d1/miniflare-D1DatabaseObject");
        std::fs::create_dir_all(&objects).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(objects.join("metadata.sqlite"), "").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(local_d1_file(&state), None);
        std::fs::write(objects.join("abc.sqlite"), "").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(local_d1_file(&state), Some(objects.join("abc.sqlite")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_migrations_wrangler_applies_are_the_workers() {
        let names = migration_names(&at("worker/migrations")).unwrap_or_else(|e| panic!("{e}"));
        let known: Vec<&str> = glimpse_worker::sqlite::MIGRATIONS
            .iter()
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(names, known);
    }
}
