//! Writes ui/src/lib/bindings.ts from the Rust command table and DTOs.
fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join(pos_api::bindings::BINDINGS_PATH);
    std::fs::create_dir_all(path.parent().expect("bindings path has a parent"))
        .expect("create ui/src/lib");
    std::fs::write(&path, pos_api::bindings::typescript()).expect("write bindings");
    println!("wrote {}", path.display());
}
