"""Step 1: matrix.toml, case.toml and the shared case files, read once into typed values."""
