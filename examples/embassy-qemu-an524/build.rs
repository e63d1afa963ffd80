fn main() {
    // The models of ariel.toml → modules in OUT_DIR (regenerated only when an input changed).
    cargo_ariel_shim::generate();
    // memory.x (from the board definition) for the start-up crate's link.x.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-search={dir}");
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-arg=-Tlink.x");
}
