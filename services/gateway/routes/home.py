"""The web page: the built single-page app of WEB_DIR (web/dist), else a small live overview.

With WEB_DIR holding index.html:
- a file of WEB_DIR is served as is; files under `assets/` have content hashes in their names
  and are cached for a year (immutable), everything else must be revalidated (`no-cache`);
- a file built with precompressed copies (`name.br`, `name.gz`, written by the web build) is sent
  as the copy the request accepts (brotli first), with its Content-Encoding and
  `Vary: Accept-Encoding`; else as is;
- any other GET path without a file extension is a client-side route (`/trade/BTCUSDT`) and
  gets index.html;
- paths of the APIs (`/api/...`, `/admin/...`, `/docs`, `/openapi.json`, `/redoc`) are never
  shadowed (so the admin API's paths are a plain 404 when it is not mounted).
Both happen in the handler of 404s (`web_path`, installed by the app): every route matches
first, and a wrong method on a route stays a 405. Without a built app, `/` is the overview below
and every other unknown path a 404.

An unknown path under one of Binance's API roots (`/api`, `/sapi`, `/fapi`, `/dapi`, `/wapi`,
`/eapi`, `/papi`) is answered, built app or not, with Binance's JSON 404 `{"code": -1020, "msg":
"This operation is not supported."}`, so an API client never parses the web page. A path that
cannot name a file (a control character, a lone surrogate) is a plain 404.
"""

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from exchange_core.errors import UNSUPPORTED_OPERATION, ApiError
from gateway.context import context

router = APIRouter(include_in_schema=False)

HASHED_DIR = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
API_PREFIXES = ("api/", "admin/", "docs", "openapi.json", "redoc")
BINANCE_API_ROOTS = ("api", "sapi", "fapi", "dapi", "wapi", "eapi", "papi")
UNSUPPORTED = ApiError(UNSUPPORTED_OPERATION, "This operation is not supported.", 404)

OVERVIEW = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Exchange</title>
<style>
body{font:15px system-ui,sans-serif;background:#0e1116;color:#e6e6e6;margin:2rem auto;
 max-width:56rem;padding:0 1rem}
a{color:#5aa9ff}table{border-collapse:collapse;width:100%}td,th{padding:.4rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}tr:nth-child(even){background:#161b22}.up{color:#3fb68b}.down{color:#ff5b5a}
code{background:#161b22;padding:.1rem .3rem}
</style></head><body>
<h1>Exchange</h1>
<p>Binance-compatible REST at <code>/api/v3</code> (<a href="/docs">OpenAPI docs</a>),
WebSocket streams on the WebSocket tier (<code>/ws/&lt;stream&gt;</code>, <code>/stream?streams=</code>).</p>
<table aria-label="Markets"><thead><tr><th>Market</th><th>Last</th><th>24h change</th><th>24h volume</th>
<th>Bid</th><th>Ask</th></tr></thead><tbody id="markets"></tbody></table>
<script>
async function refresh() {
  const rows = await (await fetch('/api/v3/ticker/24hr')).json();
  document.getElementById('markets').innerHTML = rows.map(t => {
    const change = Number(t.priceChangePercent);
    return `<tr><td>${t.symbol}</td><td>${t.lastPrice}</td>
      <td class="${change >= 0 ? 'up' : 'down'}">${t.priceChangePercent}%</td><td>${t.volume}</td>
      <td>${t.bidPrice}</td><td>${t.askPrice}</td></tr>`;
  }).join('');
}
refresh(); setInterval(refresh, 2000);
</script></body></html>
"""


def built_app(request: Request) -> Path | None:
    """WEB_DIR when it holds a built app (an index.html), else None."""
    web_dir = context(request).settings.web_dir
    if web_dir and (Path(web_dir) / "index.html").is_file():
        return Path(web_dir).resolve()
    return None


ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def accepted_encodings(header: str) -> set[str]:
    """The content codings an Accept-Encoding header accepts (those not given q=0), lower-cased."""
    accepted: set[str] = set()
    for item in header.split(","):
        name, *params = item.split(";")
        weight = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if name.strip() and weight > 0:
            accepted.add(name.strip().lower())
    return accepted


def file_response(request: Request, file: Path, cache: str) -> FileResponse:
    """`file` with its cache policy: its precompressed copy when one exists and is accepted."""
    accepted = accepted_encodings(request.headers.get("accept-encoding", ""))
    media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    for coding, suffix in ENCODINGS:
        packed = file.with_name(file.name + suffix)
        if (coding in accepted or "*" in accepted) and packed.is_file():
            headers = {"Cache-Control": cache, "Content-Encoding": coding, "Vary": "Accept-Encoding"}
            return FileResponse(packed, media_type=media_type, headers=headers)
    vary = (
        {"Vary": "Accept-Encoding"}
        if any(file.with_name(file.name + s).is_file() for _, s in ENCODINGS)
        else {}
    )
    return FileResponse(file, media_type=media_type, headers={"Cache-Control": cache, **vary})


def index_page(request: Request, root: Path) -> FileResponse:
    return file_response(request, root / "index.html", REVALIDATE)


def static_file(request: Request, root: Path, path: str) -> FileResponse | None:
    """The file `path` names inside `root` (never outside it), with its cache policy; or None,
    also for a path no file can have (a NUL, a lone surrogate)."""
    if not path.isprintable():
        return None
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    cache = IMMUTABLE if path.startswith(f"{HASHED_DIR}/") else REVALIDATE
    return file_response(request, candidate, cache)


@router.api_route("/", methods=["GET", "HEAD"])
async def home(request: Request) -> Response:
    root = built_app(request)
    return index_page(request, root) if root is not None else HTMLResponse(OVERVIEW)


def is_binance_api_path(path: str) -> bool:
    """Whether `path` (without its leading slash) is one of BINANCE_API_ROOTS or under one."""
    return path.split("/", 1)[0] in BINANCE_API_ROOTS


async def web_path(request: Request, exc: Exception) -> Response:
    """The app's 404 handler: for a GET or HEAD outside the APIs, a file of the built app or
    index.html for a client-side route; else the usual 404."""
    path = str(request.scope["path"]).lstrip("/")  # as sent: url.path drops tabs and newlines
    if is_binance_api_path(path):
        return JSONResponse(UNSUPPORTED.body(), status_code=UNSUPPORTED.status)
    root = built_app(request)
    if root is not None and request.method in ("GET", "HEAD") and not path.startswith(API_PREFIXES):
        found = static_file(request, root, path)
        if found is not None:
            return found
        if path.isprintable() and "." not in path.rsplit("/", 1)[-1]:
            return index_page(request, root)
    http_exc = exc if isinstance(exc, HTTPException) else HTTPException(status_code=404)
    return await http_exception_handler(request, http_exc)
