import uuid

import pytest

from callcenter import ids


@pytest.mark.parametrize("seed", range(64))
def test_new_uuid_is_what_uuid4_makes_of_the_same_bytes(monkeypatch, seed):
    raw = bytes((seed * 37 + i * 101) % 256 for i in range(16))
    monkeypatch.setattr(ids, "urandom", lambda n: raw[:n])
    assert ids.new_uuid() == str(uuid.UUID(bytes=raw, version=4))


def test_new_uuid_is_a_random_version_4_uuid():
    made = {ids.new_uuid() for _ in range(2000)}
    assert len(made) == 2000
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    assert {text[19] for text in made} == set("89ab")
