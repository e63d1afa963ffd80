"""Build a harness around generated modules and run it: on the host, in QEMU, or on a board."""
