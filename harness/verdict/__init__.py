"""Step 5: the PEP rules (oracle) and the verdict composed from observations (judge)."""
