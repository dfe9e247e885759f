"""Experiment: the ABI surface each interpreter really exports, against what its level promises."""
