fn main() {
    cargo_ariel_shim::generate();
}
