"""Dialogs and full-screen views: confirm, describe/YAML, logs, help."""
