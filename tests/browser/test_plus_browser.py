"""goalpost.plus.js in Chromium against the real server (contract §8): File Download, Scroll
Depth and Video Play, read back from what the server stored; and goalpost.js sends none."""

from __future__ import annotations

import io
import json
import wave

import pytest

from tests.browser.test_tracker_browser import loaded, settle

AUTOMATIC = ("File Download", "Scroll Depth", "Video Play")
# page handlers in the bubbling phase: the tracker (capture phase) has seen the click by then,
# and the test page stays where it is
STAY = "<script>document.addEventListener('click', (e) => e.preventDefault())</script>"
TALL = '<div style="height: 4000px">tall</div>'


def tone_wav() -> bytes:
    """A tenth of a second of silence: a <video> plays a WAV file in every Chromium build."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    return out.getvalue()


@pytest.fixture
def media(pages, make_page):
    """Two playable files under the test's prefix; returns their URLs."""
    urls = []
    for name in ("a.wav", "b.wav"):
        path = make_page.prefix[len(pages.origin):] + name
        pages.routes[path] = (tone_wav(), {"content-type": "audio/wav"})
        urls.append(pages.origin + path)
    return urls


def automatic(events) -> list[tuple[str, dict]]:
    return [(e["name"], json.loads(e["props"])) for e in events if e["name"] in AUTOMATIC]


def plus_page(make_page, body: str, **kw) -> str:
    return make_page(body, script_name="goalpost.plus.js", **kw)


def test_file_downloads_with_the_default_and_custom_extensions(goalpost, make_page, page):
    url = plus_page(make_page, f"""
      <a id="pdf" href="files/report.PDF?v=2">Report</a>
      <a id="zip" href="/dl/archive.zip">Archive</a>
      <a id="ext" href="https://docs.example.net/guide.pdf">Guide</a>
      <a id="epub" href="files/book.epub">Book</a>
      <a id="key" href="files/talk.key">Talk</a>
      <a id="html" href="files/page.html">Page</a>
      <a id="none" href="files/">Folder</a>{STAY}""",
                    tag_attrs='data-allow-automation data-download-extensions="epub, key"')
    page.goto(url)
    loaded(page)
    for link in ("pdf", "ext", "epub", "key", "html", "none"):
        page.click(f"#{link}")
    page.click("#zip", button="middle")
    events = settle(goalpost, page, make_page.prefix)
    assert automatic(events) == [
        ("File Download", {"url": url + "files/report.PDF?v=2", "extension": "pdf"}),
        ("File Download", {"url": "https://docs.example.net/guide.pdf", "extension": "pdf"}),
        ("File Download", {"url": url + "files/book.epub", "extension": "epub"}),
        ("File Download", {"url": url + "files/talk.key", "extension": "key"}),
        ("File Download", {"url": url.split("/", 3)[0] + "//" + url.split("/", 3)[2]
                           + "/dl/archive.zip", "extension": "zip"}),
    ]
    # the outbound file link is an outbound click too, as in goalpost.js
    assert [e["click_url"] for e in events if e["type"] == "click"] == [
        "https://docs.example.net/guide.pdf"]


def test_custom_extensions_are_not_in_the_default_list(goalpost, make_page, page):
    url = plus_page(make_page, f'<a id="epub" href="book.epub">Book</a>{STAY}')
    page.goto(url)
    loaded(page)
    page.click("#epub")
    assert automatic(settle(goalpost, page, make_page.prefix)) == []


def scroll_to(page, fraction: float) -> None:
    """Put the viewport's bottom at `fraction` of the page's height, and let the scroll event
    fire."""
    page.evaluate("""(f) => new Promise((done) => {
        const h = document.documentElement.scrollHeight;
        const y = Math.max(0, h * f - innerHeight);
        if (Math.abs(scrollY - y) < 1) return done();
        addEventListener('scroll', () => requestAnimationFrame(() => done()), {once: true});
        scrollTo(0, y);
    })""", fraction)


def test_scroll_depths_each_once_per_page_view_and_again_after_spa_navigation(
        goalpost, make_page, page):
    url = plus_page(make_page, TALL)
    path = url.split("/", 3)[3]
    page.goto(url)
    loaded(page)
    scroll_to(page, 0.3)
    scroll_to(page, 0.6)   # 50
    scroll_to(page, 0.2)
    scroll_to(page, 0.6)   # nothing new
    scroll_to(page, 0.8)   # 75
    scroll_to(page, 1.0)   # 90
    scroll_to(page, 0.5)
    scroll_to(page, 1.0)   # nothing new
    page.evaluate("history.pushState({}, '', 'next')")  # a new page view
    scroll_to(page, 0.0)
    scroll_to(page, 1.0)   # 50, 75 and 90 again, on the new path
    events = settle(goalpost, page, make_page.prefix)
    assert automatic(events) == [
        ("Scroll Depth", {"depth": 50, "path": "/" + path}),
        ("Scroll Depth", {"depth": 75, "path": "/" + path}),
        ("Scroll Depth", {"depth": 90, "path": "/" + path}),
        ("Scroll Depth", {"depth": 50, "path": "/" + path + "next"}),
        ("Scroll Depth", {"depth": 75, "path": "/" + path + "next"}),
        ("Scroll Depth", {"depth": 90, "path": "/" + path + "next"}),
    ]
    assert [e["type"] for e in events if e["type"] == "pageview"] == ["pageview", "pageview"]


def test_a_page_that_fits_the_viewport_sends_no_scroll_depth(goalpost, make_page, page):
    url = plus_page(make_page, "<p>short</p>")
    page.goto(url)
    loaded(page)
    page.mouse.wheel(0, 500)
    page.evaluate("window.dispatchEvent(new Event('scroll'))")
    assert automatic(settle(goalpost, page, make_page.prefix)) == []


def play(page, video_id: str) -> None:
    """Play from the start; returns once the element's `play` event has fired."""
    outcome = page.evaluate("""(id) => new Promise((done) => {
        const v = document.getElementById(id);
        v.addEventListener('play', () => done('played'), {once: true});
        v.currentTime = 0;
        const p = v.play();
        if (p) p.catch((e) => done(e.name + ': ' + e.message));
    })""", video_id)
    assert outcome == "played", outcome


def pause(page, video_id: str) -> None:
    page.evaluate("(id) => document.getElementById(id).pause()", video_id)


def test_video_play_first_play_of_each_video_per_page_view(goalpost, make_page, page, media):
    a, b = media
    url = plus_page(make_page, f'<video id="a" muted preload="auto" src="{a}"></video>'
                               f'<video id="b" muted preload="auto"><source src="{b}" '
                               f'type="audio/wav"></video><audio id="c" muted src="{a}"></audio>')
    page.goto(url)
    loaded(page)
    play(page, "a")
    pause(page, "a")
    play(page, "a")        # a second play of the same video: nothing
    play(page, "b")
    play(page, "c")        # audio is not a video
    page.evaluate("history.pushState({}, '', 'next')")  # a new page view
    pause(page, "a")
    play(page, "a")
    events = settle(goalpost, page, make_page.prefix)
    assert automatic(events) == [
        ("Video Play", {"src": a}),
        ("Video Play", {"src": b}),
        ("Video Play", {"src": a}),
    ]
    video_plays = [e for e in events if e["name"] == "Video Play"]
    assert video_plays[2]["url"].endswith("/next")


def test_goalpost_js_sends_none_of_the_automatic_events(goalpost, make_page, page, media):
    url = make_page(f'<a id="pdf" href="report.pdf">Report</a>{TALL}'
                    f'<video id="a" muted preload="auto" src="{media[0]}"></video>{STAY}')
    page.goto(url)
    loaded(page)
    page.click("#pdf")
    play(page, "a")
    scroll_to(page, 1.0)
    events = settle(goalpost, page, make_page.prefix)
    assert automatic(events) == []
    assert [e["type"] for e in events] == ["pageview"]
