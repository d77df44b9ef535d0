"""The one place that talks HTTP: the narrow ``Api`` handle services receive, the transport and its
retry loop, one attempt, the retry policy, the endpoint table, the envelope, the pool, auth, paths and
redaction. Nothing outside this package builds a request or reads the ``{code, data}`` envelope."""
