"""Shared widgets: the resource table, the header, cards and badges."""
