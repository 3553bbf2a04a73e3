//! `stagelog migrate`: create the database or bring its schema up to this version, or with
//! `--status` show where it stands.

use crate::cli::{Global, MigrateArgs};
use crate::error::Result;
use crate::store::{self, Store};

pub fn run(global: &Global, args: &MigrateArgs) -> Result<u8> {
    let path = global.db_path();
    if args.status {
        for m in store::migration_status(&path, global.busy_timeout())? {
            let state = match &m.applied_on {
                Some(when) => format!("applied {when}"),
                None => "pending".to_string(),
            };
            println!("V{} {}: {state}", m.version, m.name);
        }
        return Ok(0);
    }
    let (store, applied) = Store::open_and_migrate(&path, global.busy_timeout())?;
    for m in &applied {
        crate::note!("applied V{} {}", m.version, m.name);
    }
    crate::note!(
        "{}: schema at version {}{}",
        store.path().display(),
        store::supported_version(),
        if applied.is_empty() {
            " (nothing to apply)"
        } else {
            ""
        }
    );
    Ok(0)
}
