"""One module per pane. A pane builds its view off the UI thread and renders it."""
