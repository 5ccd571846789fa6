"""Run the explorer locally with uvicorn and open it in the browser."""

from __future__ import annotations

import socket
import threading
import time
import webbrowser


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def serve(host: str = "127.0.0.1", port: int = 0, open_browser: bool = True) -> None:
    """Serve the explorer on ``host:port`` (a free port when 0) until interrupted."""
    import uvicorn

    from invariance.explore.app import create_app

    port = port or free_port(host)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/"
    hosts = sorted({host, "127.0.0.1", "localhost", "::1", "[::1]"} - {"0.0.0.0", "", "::"})
    app = create_app(allowed_hosts=None if host in ("0.0.0.0", "", "::") else hosts)
    # Pipelines run in worker processes (explore/worker.py), so no request holds a server thread
    # for long; on SIGTERM or Ctrl+C, requests still open after a few seconds are dropped.
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
    )

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            print(f"invariance explore: {url}  (Ctrl+C to stop)", flush=True)
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
