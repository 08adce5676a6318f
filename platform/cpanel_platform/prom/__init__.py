"""Prometheus: the PromQL catalogue (one named query per figure on screen) and its client."""
