"""Plumbing every step uses: the one subprocess gate, atomic writes, the Debian rootfs wrapper, cache paths."""
