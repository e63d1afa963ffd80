"""IR + plan → Rust source. The per-op code comes from each op's `emit`."""
