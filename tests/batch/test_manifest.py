"""The manifest is checked whole, with line numbers, before anything is sent."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

import nemovideo
from nemovideo.batch import BatchJob, ManifestError, load_manifest, manifest_from_jobs
from nemovideo.testing import Emulator

from .conftest import run_cli, write_manifest


def _problems(path: Path, **options: object) -> list[tuple[int, str]]:
    with pytest.raises(ManifestError) as caught:
        load_manifest(path, **options)  # type: ignore[arg-type]
    assert isinstance(caught.value, nemovideo.ValidationError)
    return list(caught.value.problems)


def test_every_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    good = write_manifest(tmp_path, ["ok"]).read_text().strip()
    (tmp_path / "notes.txt").write_text("not a video")
    lines = [
        good,  # 1
        "not json",  # 2
        "",  # blank lines are skipped
        json.dumps({"id": "x", "instruction": "hi", "files": ["missing.jpg"]}),  # 4
        json.dumps({"id": "bad id!", "instruction": "hi"}),  # 5
        json.dumps({"id": "y", "instruction": ""}),  # 6
        json.dumps({"id": "ok", "instruction": "again"}),  # 7: duplicate id
        json.dumps({"id": "z", "instruction": "hi", "colour": "red"}),  # 8
        json.dumps({"id": "w", "instruction": "hi", "files": ["notes.txt"]}),  # 9
        json.dumps({"id": "v", "instruction": "hi", "out": "ok.mp4"}),  # 10: duplicate out
        json.dumps({"id": "u", "instruction": "hi", "urls": ["ftp://x/a.jpg"]}),  # 11
        "[1, 2]",  # 12
    ]
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    problems: dict[int, str] = {}
    for line, text in _problems(manifest):
        problems[line] = problems.get(line, "") + text + "; "
    assert sorted(problems) == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "not JSON" in problems[2]
    assert "missing.jpg does not exist" in problems[4]
    assert "duplicate id 'ok' (first on line 1)" in problems[7]
    assert "unknown key colour" in problems[8]
    assert "notes.txt" in problems[9]
    assert "duplicate out" in problems[10] and "line 1" in problems[10]
    assert "http" in problems[11]


def test_sizes_and_csv(tmp_path: Path) -> None:
    write_manifest(tmp_path, ["a", "b"])
    csv = tmp_path / "jobs.csv"
    csv.write_text(
        "id,files,urls,instruction,out,format,quality\n"
        "a,photos/a/0.jpg,,make a video,videos/a.mp4,,\n"
        'b,photos/b/0.jpg;photos/a/0.jpg,https://example.com/x.jpg,"a video, slowly",,mp4,high\n'
    )
    manifest = load_manifest(csv, out_dir=tmp_path / "out")
    a, b = manifest.jobs
    assert a.output(tmp_path / "out") == tmp_path / "videos" / "a.mp4"
    assert b.files == ("photos/b/0.jpg", "photos/a/0.jpg") and b.urls == (
        "https://example.com/x.jpg",
    )
    assert (
        b.instruction == "a video, slowly" and b.output(tmp_path / "out") == tmp_path / "out/b.mp4"
    )
    problems = _problems(csv, max_upload_bytes=10)
    assert [line for line, _ in problems] == [2, 3, 3]
    assert all("too large" in text.lower() or "MB" in text for _, text in problems)


def test_jobs_in_python_and_the_error_pickles(tmp_path: Path) -> None:
    manifest = manifest_from_jobs([BatchJob("a", "make a video"), {"id": "b", "instruction": "x"}])
    assert [j.id for j in manifest.jobs] == ["a", "b"]
    assert manifest.digest == manifest_from_jobs([BatchJob("a", "make a video"),
                                                   BatchJob("b", "x")]).digest  # fmt: skip
    with pytest.raises(ManifestError) as caught:
        manifest_from_jobs([BatchJob("a", "x"), BatchJob("a", "y")])
    assert caught.value.problems == ((2, "duplicate id 'a' (first on line 1)"),)
    again = pickle.loads(pickle.dumps(caught.value))
    assert again.problems == caught.value.problems and str(again) == str(caught.value)


async def test_a_bad_manifest_sends_nothing(emu: Emulator, tmp_path: Path) -> None:
    good = write_manifest(tmp_path, ["a", "b"]).read_text()
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text(good + '{"id": "c", "files": ["nope.png"], "instruction": "x"}\n')
    code, stdout, err = await run_cli(emu, tmp_path, "batch", str(manifest))
    assert code == 2
    assert "line 3: file nope.png does not exist" in err and "nothing was sent" in err
    code, stdout, _ = await run_cli(emu, tmp_path, "batch", str(manifest), "--json")
    assert code == 2 and json.loads(stdout)["error"] == "ManifestError"
    assert emu.requests == [], "not one request"
    assert not (tmp_path / "jobs.jsonl.journal.db").exists()


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ((), "needs a MANIFEST"),
        (("jobs.jsonl", "--shard", "5/4"), "1 <= I <= N"),
        (("jobs.jsonl", "--shard", "half"), "must read I/N"),
        (("jobs.jsonl", "--concurrency", "0"), "from 1 to 1000"),
        (("jobs.jsonl", "--settle", "a"), "JOB=sent or JOB=unsent"),
        (("jobs.jsonl", "--report", "x.db"), "journals only"),
        (("--report", "missing.db"), "No journal at missing.db"),
    ],
)
async def test_bad_options_exit_2_before_anything_is_sent(
    emu: Emulator, tmp_path: Path, words: tuple[str, ...], says: str
) -> None:
    write_manifest(tmp_path, ["a"])
    code, _, err = await run_cli(emu, tmp_path, "batch", *words)
    assert code == 2 and says in err, err
    assert emu.requests == []


def test_outputs_that_are_one_file_through_links_are_duplicates(tmp_path: Path) -> None:
    """Outputs are compared as resolved paths (each folder resolved once for all its videos):
    a folder linked to another, or an existing output that is a link, names the same file."""
    (tmp_path / "videos").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "videos", target_is_directory=True)
    (tmp_path / "videos" / "a.mp4").write_bytes(b"")
    (tmp_path / "videos" / "b.mp4").symlink_to(tmp_path / "videos" / "a.mp4")
    jobs = [
        {"id": "one", "instruction": "hi", "out": "videos/a.mp4"},
        {"id": "two", "instruction": "hi", "out": "alias/a.mp4"},
        {"id": "three", "instruction": "hi", "out": "videos/b.mp4"},
        {"id": "four", "instruction": "hi", "out": "alias/../videos/c.mp4"},
        {"id": "five", "instruction": "hi", "out": "videos/c.mp4"},
    ]
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text("\n".join(json.dumps(j) for j in jobs) + "\n")
    problems = _problems(manifest)
    assert [line for line, _ in problems] == [2, 3, 5]
    assert all("duplicate out" in text for _, text in problems)
    assert "also line 1" in problems[0][1] and "also line 1" in problems[1][1]
    assert "also line 4" in problems[2][1]
