"""Static multicore schedule: split nodes into parts, assign parts to cores, derive per-core
programs with the signal/wait pairs they need (docs/multicore.md)."""
