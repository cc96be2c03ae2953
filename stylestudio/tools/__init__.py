"""Developer tools (not used by the app at run time)."""
