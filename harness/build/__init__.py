"""Step 3: one wheel per (case, target, build interpreter), cached by content, and its audit."""
