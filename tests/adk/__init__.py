"""Interop tests against a real Google ADK api_server (see _server.py)."""
