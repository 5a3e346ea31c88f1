"""/docs and /redoc work without the internet: every asset they load comes from modelplane."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

# What each kind of asset must be served as.
FITTING_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


class Assets(HTMLParser):
    """The URLs a page loads: scripts, stylesheets and icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        if wanted and named.get(wanted):
            self.urls.append(str(named[wanted]))


def assets_of(html: str) -> list[str]:
    parser = Assets()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_a_docs_page_loads_every_script_style_and_icon_from_modelplane(
    anon: httpx.AsyncClient, page: str
) -> None:
    answer = await anon.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "http://" not in answer.text and "https://" not in answer.text, answer.text
    urls = assets_of(answer.text)
    kinds = {urlsplit(url).path.rsplit(".", 1)[-1] for url in urls}
    assert {"js", "png"} <= kinds, urls  # the page's script and its icon, at least
    origin = urlsplit(str(anon.base_url))
    for url in urls:
        absolute = urlsplit(urljoin(str(answer.url), url))
        assert (absolute.scheme, absolute.netloc) == (origin.scheme, origin.netloc), url
        asset = await anon.get(absolute.path)
        assert asset.status_code == 200, url
        suffix = "." + absolute.path.rsplit(".", 1)[-1]
        content_type = asset.headers["content-type"].split(";")[0]
        assert content_type in FITTING_TYPES[suffix], (url, content_type)
        assert len(asset.content) > 1000, url  # the real file, not an empty answer


async def test_swagger_ui_reads_modelplanes_document_and_sends_it_nowhere_else(
    anon: httpx.AsyncClient,
) -> None:
    page = (await anon.get("/docs")).text
    assert "url: '/openapi.json'" in page
    assert '"validatorUrl": null' in page  # no badge fetched from validator.swagger.io
    assert "css" in {url.rsplit(".", 1)[-1] for url in assets_of(page)}
    assert 'spec-url="/openapi.json"' in (await anon.get("/redoc")).text


async def test_an_asset_that_is_not_shipped_is_404(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/docs/assets/nothing.js")).status_code == 404
    assert (await anon.get("/docs/assets/../openapi.py")).status_code == 404
