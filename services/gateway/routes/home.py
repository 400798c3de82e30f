"""The page at `/`: the built web app when WEB_DIR holds one, else a small live overview of the
markets with the addresses of the APIs (the full trading page is its own issue)."""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from gateway.auth import context

router = APIRouter(include_in_schema=False)

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


@router.get("/")
async def home(request: Request) -> Response:
    web_dir = context(request).settings.web_dir
    index = Path(web_dir) / "index.html" if web_dir else None
    if index is not None and index.is_file():
        return FileResponse(index)
    return HTMLResponse(OVERVIEW)
