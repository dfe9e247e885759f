"""The persisted formats: one typed msgspec decoder per file the harness reads back.

`decode` is the one way in: bytes or text through a msgspec type, every failure turned into the
project's error (DamagedResults for results, ConfigError for configuration) naming file, line and field
path. The types of each format live in this package; no code outside it indexes a dict from a file.
"""
