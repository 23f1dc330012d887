"""A TCP proxy that a test can cut and restore: the database 'goes down' for the app under test
without stopping the machine's PostgreSQL."""

from __future__ import annotations

import asyncio


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port: int | None = None
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port or 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(up_writer)


async def proxy_in_front_of(database_url: str) -> tuple[TcpProxy, str]:
    """A started proxy to this PostgreSQL URL's server, and the URL that goes through it."""
    from sqlalchemy.engine import make_url

    target = make_url(database_url)
    port = target.port or 5432
    proxy = TcpProxy(target.host or "127.0.0.1", port)
    await proxy.start()
    return proxy, database_url.replace(f":{port}/", f":{proxy.port}/")
