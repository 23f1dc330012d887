"""The environment's numeric settings: a value that means nothing is refused at start with the
variable's name, rather than read as something else (a negative interval as 0, a live queue of
0 as 1); unset or empty is the default."""

from __future__ import annotations

import pytest

from server.settings import Settings

WHOLE = {  # variable -> (attribute, a good value, its reading, values refused)
    "GOALPOST_LIVE_QUEUE": ("live_queue_size", "64", 64, ["0", "-5", "1.5", "many", "nan"]),
    "GOALPOST_WRITER_CONNECTIONS": ("writer_connections", "2", 2, ["0", "17", "two"]),
    "GOALPOST_RETENTION_DAYS": ("retention_days", "30", 30, ["-1", "30.5", "month"]),
}
NUMBERS = {
    "GOALPOST_RATE_LIMIT": ("rate_limit", "0", 0.0),
    "GOALPOST_RATE_BURST": ("rate_burst", "7.5", 7.5),
    "GOALPOST_SKETCH_MERGE_SECONDS": ("sketch_merge_seconds", "0.5", 0.5),
    "GOALPOST_DIMENSION_BUILD_SECONDS": ("dimension_build_seconds", "0", 0.0),
}
NOT_NUMBERS = ["-1", "-0.5", "nan", "inf", "soon"]
DEFAULTS = {"live_queue_size": 1024, "writer_connections": 1, "retention_days": 0,
            "rate_limit": 50.0, "rate_burst": 100.0, "sketch_merge_seconds": 2.0,
            "dimension_build_seconds": 60.0}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in [*WHOLE, *NUMBERS]:
        monkeypatch.delenv(name, raising=False)


def test_unset_and_empty_are_the_defaults(monkeypatch):
    settings = Settings.from_env()
    assert {name: getattr(settings, name) for name in DEFAULTS} == DEFAULTS
    for name in [*WHOLE, *NUMBERS]:
        monkeypatch.setenv(name, " ")
    settings = Settings.from_env()
    assert {name: getattr(settings, name) for name in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize("name", [*WHOLE, *NUMBERS])
def test_a_good_value_is_read(monkeypatch, name):
    attribute, good, reading = (WHOLE.get(name) or NUMBERS[name])[:3]
    monkeypatch.setenv(name, good)
    assert getattr(Settings.from_env(), attribute) == reading


@pytest.mark.parametrize("name, bad", [(name, bad) for name, spec in WHOLE.items()
                                       for bad in spec[3]])
def test_a_whole_number_setting_refuses_what_is_not_one_in_its_range(monkeypatch, name, bad):
    monkeypatch.setenv(name, bad)
    with pytest.raises(SystemExit, match=f"^{name} must be a whole number.*got '{bad}'"):
        Settings.from_env()


@pytest.mark.parametrize("name, bad", [(name, bad) for name in NUMBERS for bad in NOT_NUMBERS])
def test_a_number_setting_refuses_negative_endless_and_words(monkeypatch, name, bad):
    monkeypatch.setenv(name, bad)
    with pytest.raises(SystemExit, match=f"^{name} must be a number, 0 or more, got '{bad}'"):
        Settings.from_env()
