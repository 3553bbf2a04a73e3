//! Embeds every canned report in `queries/` (and rebuilds when a migration or query is added, so
//! `embed_migrations!` and the report list see new files).

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=queries");
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("queries");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("queries/ exists")
        .map(|e| e.expect("queries/ is readable").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    names.sort();
    let entries: String = names
        .iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy();
            format!(
                "    ({name:?}, include_str!({:?})),\n",
                p.display().to_string()
            )
        })
        .collect();
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("queries.rs");
    std::fs::write(out, format!("&[\n{entries}]\n")).unwrap();
}
