from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from callcenter.recording import wav
from callcenter.recording.wav import FileStatus
from callcenter.sim import recordfile


def test_the_simulator_writes_what_freeswitch_wrote_in_s16(tmp_path: Path) -> None:
    path = tmp_path / "s16.wav"
    recordfile.write(path, 4020, 2, [(2000, 3000)])
    assert path.stat().st_size == 128684  # sessions-3/s16: variable_record_file_size
    info = wav.read_info(path.read_bytes()[:64])
    assert (info.channels, info.rate, info.bits, info.duration_ms) == (2, 8000, 16, 4020)
    data = path.read_bytes()[wav.HEADER :]
    frame = 4
    masked = data[2100 * 8 * frame : 2900 * 8 * frame]
    assert not any(masked)  # the PCI span is silence
    heard = data[100 * 8 * frame : 900 * 8 * frame]
    left, right = heard[0:2], heard[2:4]
    assert left != right and any(heard)  # caller and agent on their own channel


def test_a_good_file_is_ok_with_its_size_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    recordfile.write(path, 1500, 1, [])
    result = wav.check(path, 1500)
    assert result.status is FileStatus.OK
    assert result.size_bytes == path.stat().st_size
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (result.channels, result.file_ms) == (1, 1500)


def test_within_a_second_of_what_freeswitch_reported(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    recordfile.write(path, 3000, 1, [])
    assert wav.check(path, 3900).status is FileStatus.OK
    far = wav.check(path, 4100)
    assert far.status is FileStatus.CORRUPT and "3000 ms in the file" in (far.problem or "")


def test_missing_corrupt_and_other_formats(tmp_path: Path) -> None:
    assert wav.check(tmp_path / "none.wav", 10).status is FileStatus.MISSING
    recordfile.write(tmp_path / "cut.wav", 1000, 2, [], recordfile.CORRUPT)
    cut = wav.check(tmp_path / "cut.wav", 1000)
    assert cut.status is FileStatus.CORRUPT and cut.sha256
    (tmp_path / "junk.wav").write_bytes(b"ID3\x03" + bytes(100))
    assert "no RIFF/WAVE" in (wav.check(tmp_path / "junk.wav", None).problem or "")
    (tmp_path / "a.mp3").write_bytes(b"ID3" + bytes(10))
    assert wav.check(tmp_path / "a.mp3", 5000).status is FileStatus.OK
    (tmp_path / "empty.mp3").write_bytes(b"")
    assert wav.check(tmp_path / "empty.mp3", 5000).status is FileStatus.CORRUPT


@pytest.mark.parametrize(
    ("head", "why"),
    [
        (b"RIFF\x00\x00\x00\x00WAVE", "no data chunk"),
        (b"RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00", "data before fmt"),
        (wav.header(0, 8000, 0), "bad format"),
    ],
)
def test_bad_headers(head: bytes, why: str) -> None:
    with pytest.raises(wav.NotWav, match=why):
        wav.read_info(head)
