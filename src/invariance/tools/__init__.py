"""Tooling around policies: command line, previews, profiling."""
