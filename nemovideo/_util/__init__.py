"""Helpers with no HTTP and no domain in them: numbers, JSON, files, closing, logging, deadlines."""
