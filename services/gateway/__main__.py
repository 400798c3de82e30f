"""`python -m gateway`: serve the REST API (127.0.0.1:8000 unless HOST/PORT say otherwise)."""

import uvicorn

from gateway.app import create_server_app
from gateway.httpprotocol import DeadlineHttpToolsProtocol
from gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    if not settings.secret_key:
        raise SystemExit("SECRET_KEY is required (a Fernet key: urlsafe base64 of 32 random bytes)")
    app: object = "gateway.app:create_server_app" if settings.workers > 1 else create_server_app(settings)
    uvicorn.run(
        app,  # type: ignore[arg-type]
        factory=settings.workers > 1,
        workers=settings.workers if settings.workers > 1 else None,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=DeadlineHttpToolsProtocol,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_keep_alive=settings.keep_alive_s,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )


if __name__ == "__main__":
    main()
