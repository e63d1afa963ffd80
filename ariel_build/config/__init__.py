"""A firmware crate's configuration: `[package.metadata.ariel]` in Cargo.toml and its `ariel.toml`."""
