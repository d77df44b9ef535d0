"""``nemovideo batch``: run a manifest of jobs exactly once, resumably; ``--report`` merges journals.

    nemovideo batch jobs.jsonl --concurrency 4        # run it; run it again to resume
    nemovideo batch jobs.jsonl --retry-failed         # failed jobs once more
    nemovideo batch jobs.jsonl --shard 2/4            # this machine's quarter, its own journal
    nemovideo batch --report a.db b.db c.db d.db      # every shard's jobs in one table

Progress goes to stderr as one overall line (done / running / failed counts and an ETA) when it is
a terminal, a line per finished job on stdout otherwise, and JSON Lines on stdout with ``--json``
(``{"event": "batch" | "start" | "result" | "summary", ...}``). A closing table ends the run.

Exit codes (``docs/batch.md``): 0 every job done; 1 some jobs failed or need attention (the
journal path and the retry command are printed); 2 a bad manifest, journal or option (nothing
was sent); 3 authentication; 4 out of credits or export blocked (the batch stopped: the
registration link and the count of jobs left are printed); 5 rate limited, server or network;
130 interrupted (run the same command again to resume).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nemovideo.batch import BatchResult, JournalError, read_journal
from nemovideo.batch.shard import parse_shard
from nemovideo.cli._exit import EXIT_FAILURE, EXIT_OK, EXIT_SERVER, exit_code_for
from nemovideo.cli._session import make_client
from nemovideo.errors import RateLimitError, ValidationError

__all__ = ["add_batch_parser", "run_batch_command"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_STATUSES = ("done", "failed", "needs-attention", "pending")

HELP = (
    "run a manifest of jobs, resumably",
    "Run every job of a JSON Lines or CSV manifest (files + one instruction -> one MP4), "
    "recording each step in a journal: running the same command again resumes, and no message "
    "is sent twice, no render submitted twice. --report merges shard journals into one table.",
)


EXIT_HELP = (
    "Exit codes: 0 every job done; 1 some failed or need attention; 2 a bad manifest, journal "
    "or option (nothing sent); 3 authentication; 4 out of credits or export blocked (stopped); "
    "5 rate limited, server or network (stopped); 130 interrupted. Guide: docs/batch.md."
)


def add_batch_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``batch`` on the command line's subparsers."""
    parser = sub.add_parser(
        "batch", parents=parents, help=HELP[0], description=HELP[1], epilog=EXIT_HELP
    )
    parser.add_argument("manifest", nargs="?", type=Path, help="jobs.jsonl or jobs.csv")
    parser.add_argument(
        "--journal",
        type=Path,
        metavar="PATH",
        help="the journal (default: <manifest>.journal.db beside it)",
    )
    parser.add_argument(
        "--concurrency", type=_positive, default=4, metavar="N", help="jobs at a time (default 4)"
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        metavar="DIR",
        help="where videos go when a job has no 'out' (default: the manifest's directory)",
    )
    parser.add_argument(
        "--one-session",
        action="store_true",
        help="one session: every file uploaded once, each instruction in turn, each its own render",
    )
    parser.add_argument("--retry-failed", action="store_true", help="run failed jobs again")
    parser.add_argument(
        "--shard",
        metavar="I/N",
        default="1/1",
        help="run only the I-th of N deterministic shards (e.g. 2/4)",
    )
    parser.add_argument(
        "--settle",
        action="append",
        default=[],
        metavar="JOB=sent|unsent",
        help="after looking at a needs-attention job's session: 'sent' goes on "
        "to the render, 'unsent' sends the message (repeatable)",
    )
    parser.add_argument(
        "--report",
        nargs="+",
        type=Path,
        metavar="JOURNAL",
        help="print the merged table of these journals and exit",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 or value > 1000:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 1000, got {text!r}")
    return value


def safe(text: object) -> str:
    """Server or file text made harmless for a terminal (control and bidi characters dropped)."""
    return _CONTROL.sub("", str(text))


def _line(data: Mapping[str, Any]) -> None:
    print(json.dumps(data, default=str, ensure_ascii=False), flush=True)


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class _Progress:
    """Counts and the ETA; draws on stderr (a terminal), prints lines (a pipe) or JSON Lines."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json = bool(getattr(args, "json", False))
        self.tty = not self.json and sys.stderr.isatty()
        self.total = self.todo = 0
        self.running: set[str] = set()
        self.counts = dict.fromkeys(_STATUSES, 0)
        self.started = time.monotonic()
        self.finished_here = 0
        self.journal = ""

    def event(self, kind: str, data: Mapping[str, Any]) -> None:
        if kind == "batch":
            self.total, self.todo = int(data["total"]), int(data["todo"])
            self.journal = str(data["journal"])
            if self.json:
                _line({"event": "batch", **data})
        elif kind == "start":
            self.running.add(str(data["job_id"]))
            if self.json:
                _line({"event": "start", "job_id": data["job_id"]})
        elif kind == "finish":
            self.running.discard(str(data["job_id"]))
            return
        self._draw()

    def result(self, result: BatchResult) -> None:
        self.running.discard(result.job_id)
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if not result.resumed:
            self.finished_here += 1
        if self.json:
            _line({"event": "result", **result.to_dict()})
        else:
            self.erase()
            print(_describe(result), flush=True)
            if not self.tty:
                print(self._summary(), flush=True)
        self._draw()

    def _summary(self) -> str:
        finished = sum(self.counts.values())
        eta = ""
        left = self.total - finished
        if self.finished_here and left > 0:
            per_job = (time.monotonic() - self.started) / self.finished_here
            eta = f", ETA {_duration(per_job * left)}"
        return (
            f"[{finished}/{self.total}] {self.counts['done']} done, {len(self.running)} "
            f"running, {self.counts['failed']} failed{eta}"
        )

    def _draw(self) -> None:
        if not self.tty or not self.total:
            return
        finished = sum(self.counts.values())
        width = 24
        filled = width * finished // self.total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self._summary()}\x1b[K")
        sys.stderr.flush()

    def erase(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _describe(result: BatchResult) -> str:
    earlier = " (earlier run)" if result.resumed else ""
    if result.status == "done":
        size = f", {result.size / 1000:.1f} kB" if result.size is not None else ""
        return f"done    {safe(result.job_id)} -> {safe(result.path)}{size}{earlier}"
    reason = safe(result.error).splitlines()[0] if result.error else ""
    return f"{result.status:<7} {safe(result.job_id)}: {reason}{earlier}"


def _table(rows: Sequence[tuple[str, str, str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows)


def _result_row(result: BatchResult) -> tuple[str, str, str]:
    if result.status == "done":
        detail = str(result.path)
    elif result.error is not None:
        detail = safe(result.error).splitlines()[0][:160]
        if result.session_id and result.status == "needs-attention":
            detail += f" [session {result.session_id}]"
    else:
        detail = ""
    return safe(result.job_id), result.status, safe(detail)


def _retry_command(args: argparse.Namespace) -> str:
    words = ["nemovideo", "batch", str(args.manifest)]
    for flag, value in (("--journal", args.journal), ("--out-dir", args.out_dir)):
        if value is not None:
            words += [flag, str(value)]
    if args.shard != "1/1":
        words += ["--shard", args.shard]
    if args.one_session:
        words.append("--one-session")
    return shlex.join([*words, "--retry-failed"])


async def run_batch_command(args: argparse.Namespace) -> int:
    """``nemovideo batch``: run (or resume) a manifest, or ``--report`` journals."""
    if args.report:
        if args.manifest is not None:
            raise ValidationError("--report takes journals only: leave the manifest out")
        return report(args, args.report)
    if args.manifest is None:
        raise ValidationError("nemovideo batch needs a MANIFEST (or --report JOURNAL...)")
    shard = parse_shard(args.shard)
    settle: dict[str, str] = {}
    for word in args.settle:
        job_id, sep, verdict = word.partition("=")
        if not sep or not job_id:
            raise ValidationError(f"--settle {word!r}: write JOB=sent or JOB=unsent")
        settle[job_id] = verdict
    progress = _Progress(args)
    results: list[BatchResult] = []
    async with make_client(args) as client:
        async for result in client.batch(
            args.manifest,
            journal=args.journal,
            concurrency=args.concurrency,
            out_dir=args.out_dir,
            one_session=args.one_session,
            retry_failed=args.retry_failed,
            shard=shard,
            settle=settle,
            on_event=progress.event,
        ):
            results.append(result)
            progress.result(result)
    return _finish(args, progress, results)


def _finish(args: argparse.Namespace, progress: _Progress, results: list[BatchResult]) -> int:
    counts = {s: sum(r.status == s for r in results) for s in _STATUSES}
    stop = next((r.error for r in results if r.status == "pending" and r.error), None)
    code = EXIT_OK
    if stop is not None:
        code = EXIT_SERVER if isinstance(stop, RateLimitError) else exit_code_for(stop)
    elif counts["failed"] or counts["needs-attention"] or counts["pending"]:
        code = EXIT_FAILURE
    retry = _retry_command(args) if counts["failed"] else None
    registration = getattr(stop, "registration_url", None)
    if progress.json:
        _line(
            {
                "event": "summary",
                "counts": counts,
                "total": len(results),
                "journal": progress.journal,
                "exit_code": code,
                "retry_command": retry,
                "stopped": None
                if stop is None
                else {
                    "type": type(stop).__name__,
                    "message": str(stop),
                    "registration_url": registration,
                    "jobs_left": counts["pending"],
                },
            }
        )
        return code
    progress.erase()
    if results:
        print(
            "\n"
            + _table([("job", "status", "output / reason"), *(_result_row(r) for r in results)]),
            flush=True,
        )
    print(
        f"\n{counts['done']} done, {counts['failed']} failed, {counts['needs-attention']} "
        f"need attention, {counts['pending']} left. Journal: {progress.journal}",
        flush=True,
    )
    if stop is not None:
        why = safe(stop).splitlines()[0]
        print(f"Stopped starting new jobs: {why}", flush=True)
        if registration:
            print(f"Register to get more credits: {safe(registration)}", flush=True)
        print(f"{counts['pending']} job(s) left; run the same command again to go on.", flush=True)
    if retry:
        print(f"Retry the failed jobs: {retry}", flush=True)
    if counts["needs-attention"]:
        print(
            "Jobs that need attention were not sent twice. Look at their session, then "
            "settle each: --settle JOB=sent (it took effect) or --settle JOB=unsent "
            "(see docs/batch.md).",
            flush=True,
        )
    return code


def report(args: argparse.Namespace, journals: Sequence[Path]) -> int:
    """Merge shard journals into one table; exit 0 only when every job of every shard is done."""
    digests: set[str] = set()
    shards: dict[int, int] = {}
    merged: list[dict[str, Any]] = []
    for path in journals:
        meta, rows, _steps = read_journal(path)
        digests.add(meta["manifest_hash"])
        i, n = parse_shard(meta.get("shard", "1/1"))
        shards[i] = n
        merged += [{"journal": str(path), "shard": f"{i}/{n}", **row.to_dict()} for row in rows]
    if len(digests) > 1:
        raise JournalError(
            "These journals belong to different manifests: --report merges the shards of one."
        )
    counts: dict[str, int] = {}
    for row in merged:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    sizes = set(shards.values())
    missing = sorted(set(range(1, max(sizes) + 1)) - set(shards)) if len(sizes) == 1 else []
    code = EXIT_OK if counts.get("done", 0) == len(merged) and not missing else EXIT_FAILURE
    if getattr(args, "json", False):
        _line({"jobs": merged, "counts": counts, "missing_shards": missing, "exit_code": code})
        return code
    table = [("job", "status", "output / reason")]
    for row in merged:
        detail = row["output"] if row["status"] == "done" else (row["error"] or "")
        if row["status"] == "needs-attention" and row["session_id"]:
            detail += f" [session {row['session_id']}]"
        table.append((safe(row["job_id"]), row["status"], safe(detail).split("\n")[0][:160]))
    print(_table(table))
    total_shards = max(sizes) if sizes else 1
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    print(f"\n{len(merged)} jobs in {len(shards)} of {total_shards} shard(s): {summary}")
    if missing:
        print(f"Missing shards: {', '.join(f'{i}/{total_shards}' for i in missing)}")
    return code
