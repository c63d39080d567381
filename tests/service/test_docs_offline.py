"""`/docs` works with no network but the service's: the page names only same-origin assets, and
each answers 200 (Redoc comes from a pinned package, not a CDN)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from tests.support import Api


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "spec-url") and value:
                self.urls.append(value)


def test_docs_reference_only_same_origin_assets_that_answer(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    parser = _Assets()
    parser.feed(page.text)
    assert "/openapi.json" in parser.urls
    scripts = [u for u in parser.urls if u.endswith(".js")]
    assert scripts, page.text
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme, url  # no other origin, not even an absolute URL to ours
        assert not parts.netloc, url
        assert url.startswith("/"), url
        answer = api.client.get(url)
        assert answer.status_code == 200, url
    script = api.client.get(scripts[0])
    assert "javascript" in script.headers["content-type"]
    assert "Redoc" in script.text[:2000]
    assert len(script.content) > 100_000  # the real bundle, not a stub
