"""Uploads: local files streamed as multipart, or URLs the server fetches.

Every input is checked (readable, a supported format, not empty, under ``max_upload_bytes``)
before the first byte is sent, so a bad file in a batch of twenty costs nothing and names itself in
the error. Files are streamed from disk in chunks (a 200 MB video never sits in memory) and
re-opened from the start on every retry, so a retried upload is byte-identical::

    media = await session.upload(["a.jpg", Path("b.mp4"), ("c.png", png_bytes)],
                                 progress=lambda done, total: print(f"{done}/{total}"))
    print([m.url for m in media])

Files go one per request, in the order given, so the session lists them (and the agent uses them)
in your order; a failure costs one file's retry. ``upload_concurrency > 1`` sends that many at once
for throughput, and the server then records them in the order they finish. Results always come back
in the order given.
"""

from __future__ import annotations

from nemovideo.upload._uploader import FileInput, ProgressCallback, UploadedMedia, Uploader

__all__ = ["FileInput", "ProgressCallback", "UploadedMedia", "Uploader"]
