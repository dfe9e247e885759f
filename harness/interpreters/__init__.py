"""Step 2: find, probe and provision the interpreters (one provider module each)."""
