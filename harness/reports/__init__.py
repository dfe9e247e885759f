"""Step 7: records turned into Markdown, HTML, JUnit, step summaries and diffs."""
