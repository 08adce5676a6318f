"""Provisioning: the declarative platform file, its guard rails, and (later) plan and apply."""
