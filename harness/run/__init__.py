"""Step 6: a run from plan to records: planning, sharding, the pipeline, records, merge, rejudge."""
