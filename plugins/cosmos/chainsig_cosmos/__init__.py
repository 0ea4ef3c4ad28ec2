"""Work in progress: filled by its own issue."""
