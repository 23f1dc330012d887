"""The browser tests carry copies of the form markup in shared/fixtures/forms/ so they need
nothing outside the repository; the copies must not drift from the source."""

from pathlib import Path

import pytest

COPIES = Path(__file__).resolve().parents[1] / "browser" / "forms"
SOURCE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "forms"


@pytest.mark.parametrize("name", sorted(p.name for p in COPIES.glob("*.form.html")))
def test_browser_form_markup_is_the_shared_fixture(name):
    if not SOURCE.is_dir():
        pytest.skip("shared/ is not beside this checkout")
    assert (COPIES / name).read_text() == (SOURCE / name).read_text()


def test_every_shared_form_fixture_has_a_copy():
    if not SOURCE.is_dir():
        pytest.skip("shared/ is not beside this checkout")
    assert {p.name for p in SOURCE.glob("*.form.html")} == {p.name for p in COPIES.glob("*.form.html")}
