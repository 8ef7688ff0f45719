"""The disk spool: ordered segments, byte accounting, the size limit, and surviving a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.spool import Spool, SpoolFullError

BATCHES = [
    ['level,station=S1 flags="",lag_s=0.5,value=1.25 1641881700000'],
    [
        'level,station=S1 flags="",lag_s=0.5,value=1.5 1641882000000',
        'level,station=S2 flags="",lag_s=1,value=2 1641882000000',
    ],
    ['rain,station=R1 flags="range",interval_s=300,lag_s=0,value=30 1641882300000'],
]


def size(lines: list[str]) -> int:
    """Bytes a batch takes on disk."""
    return len(("\n".join(lines) + "\n").encode())


def test_segments_come_back_in_append_order_with_their_lines(tmp_path: Path) -> None:
    """Each append is one segment; segments are listed oldest first and read back line for line."""
    spool = Spool(tmp_path / "spool", max_bytes=10_000)
    for batch in BATCHES:
        spool.append(batch)
    segments = spool.segments()
    assert [p.name for p in segments] == ["000000000000.lp", "000000000001.lp", "000000000002.lp"]
    assert [spool.read(p) for p in segments] == BATCHES


def test_bytes_count_what_is_held_and_drop_on_remove(tmp_path: Path) -> None:
    """The byte count is the size of the segments on disk, and falls by a segment's size when it is removed."""
    spool = Spool(tmp_path / "spool", max_bytes=10_000)
    assert spool.bytes == 0
    for batch in BATCHES:
        spool.append(batch)
    assert spool.bytes == sum(size(b) for b in BATCHES) == sum(p.stat().st_size for p in spool.segments())
    oldest = spool.segments()[0]
    spool.remove(oldest)
    assert not oldest.exists()
    assert spool.bytes == size(BATCHES[1]) + size(BATCHES[2])
    assert [spool.read(p) for p in spool.segments()] == BATCHES[1:]
    for segment in spool.segments():
        spool.remove(segment)
    assert spool.bytes == 0
    assert spool.segments() == []


def test_append_up_to_the_limit_then_spool_full(tmp_path: Path) -> None:
    """Appending exactly up to max_bytes succeeds; one byte more is SpoolFullError and leaves no file behind."""
    folder = tmp_path / "spool"
    spool = Spool(folder, max_bytes=size(BATCHES[0]) + size(BATCHES[1]))
    spool.append(BATCHES[0])
    spool.append(BATCHES[1])
    assert spool.bytes == spool.max_bytes
    with pytest.raises(SpoolFullError):
        spool.append(["x"])
    assert spool.bytes == spool.max_bytes
    assert sorted(p.name for p in folder.iterdir()) == ["000000000000.lp", "000000000001.lp"]


def test_space_freed_by_remove_can_be_used_again(tmp_path: Path) -> None:
    """After SpoolFullError, removing a segment makes room for the next append."""
    spool = Spool(tmp_path / "spool", max_bytes=size(BATCHES[0]))
    spool.append(BATCHES[0])
    with pytest.raises(SpoolFullError):
        spool.append(BATCHES[0])
    spool.remove(spool.segments()[0])
    spool.append(BATCHES[0])
    assert [spool.read(p) for p in spool.segments()] == [BATCHES[0]]


def test_restart_removes_leftover_tmp_and_keeps_segments(tmp_path: Path) -> None:
    """Re-opening the folder (a restart after a crash) deletes half-written *.tmp files and keeps whole segments."""
    folder = tmp_path / "spool"
    first = Spool(folder, max_bytes=10_000)
    first.append(BATCHES[0])
    first.append(BATCHES[1])
    leftover = folder / "000000000002.tmp"
    leftover.write_text('level,station=S1 flags="",lag_s=0,val', encoding="utf-8")

    again = Spool(folder, max_bytes=10_000)
    assert not leftover.exists()
    assert [again.read(p) for p in again.segments()] == BATCHES[:2]
    assert again.bytes == size(BATCHES[0]) + size(BATCHES[1])


def test_numbering_continues_after_restart(tmp_path: Path) -> None:
    """After a restart new segments are numbered after the newest kept one, so they are read back last."""
    folder = tmp_path / "spool"
    first = Spool(folder, max_bytes=10_000)
    for batch in BATCHES:
        first.append(batch)
    first.remove(first.segments()[0])

    again = Spool(folder, max_bytes=10_000)
    again.append(["after restart"])
    assert [p.name for p in again.segments()] == ["000000000001.lp", "000000000002.lp", "000000000003.lp"]
    assert again.read(again.segments()[-1]) == ["after restart"]


def test_limit_counts_segments_kept_from_before_a_restart(tmp_path: Path) -> None:
    """Segments found at start count against max_bytes."""
    folder = tmp_path / "spool"
    Spool(folder, max_bytes=10_000).append(BATCHES[1])
    again = Spool(folder, max_bytes=size(BATCHES[1]) + 1)
    with pytest.raises(SpoolFullError):
        again.append(BATCHES[0])


def test_folder_is_created(tmp_path: Path) -> None:
    """The spool creates its folder, parents included."""
    folder = tmp_path / "var" / "spool"
    Spool(folder, max_bytes=1)
    assert folder.is_dir()
