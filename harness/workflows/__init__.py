"""Use cases that chain the steps: run, nightly."""
