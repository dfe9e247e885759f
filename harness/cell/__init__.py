"""Step 4: one cell's observations: resolve and install by each installer, load by each route, call."""
