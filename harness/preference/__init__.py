"""Experiment: which wheel pip and uv pick when several fit."""
