"""The orchestrator's lifecycle: a grpc.aio server over mutual TLS, with the standard
health and reflection services, a heartbeat sweeper, and a graceful stop (health goes
NOT_SERVING first, then in-flight streams get ``grace`` seconds)."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import signal
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from autogpt.errors import ConfigError
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.logs import get_logger
from orchgpt.activity import Activity
from orchgpt.address import check_bindable
from orchgpt.config import OrchSettings
from orchgpt.http import HttpServer
from orchgpt.ledger import Ledger
from orchgpt.live import metrics_routes, web_routes
from orchgpt.metrics import Metrics
from orchgpt.servicer import IacServicer, add_to_server
from orchgpt.shared_memory import open_shared_memory
from orchgpt.switchboard import Switchboard

log = get_logger("orchgpt")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Iac"].full_name
TLS_RECORD_BYTES = 4096


class State(enum.Enum):
    NEW = "new"
    SERVING = "serving"
    STOPPING = "stopping"
    STOPPED = "stopped"


def server_credentials(certs: Path) -> grpc.ServerCredentials:
    """mTLS: the server proves itself with server.pem and requires a client cert from ca.pem."""
    files = {name: certs / name for name in ("ca.pem", "server.pem", "server.key")}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise ConfigError(f"TLS files missing: {', '.join(missing)}", hint=f"run `orchgpt certs init --dir {certs}`")
    return grpc.ssl_server_credentials(
        [(files["server.key"].read_bytes(), files["server.pem"].read_bytes())],
        root_certificates=files["ca.pem"].read_bytes(),
        require_client_auth=True,
    )


class Orchestrator:
    def __init__(self, settings: OrchSettings) -> None:
        self.settings = settings
        self.state = State.NEW
        self.ledger = Ledger(settings.ledger, keep=settings.ledger_keep, days=settings.ledger_days)
        self.board = Switchboard(
            max_envelope_bytes=settings.max_envelope_bytes,
            queue_size=settings.queue_size,
            heartbeat_timeout=settings.heartbeat_timeout,
            ledger=self.ledger,
            queue_bytes=settings.queue_bytes,
            streams_per_cert=settings.streams_per_cert,
            pending_requests=settings.pending_requests,
            agents_page=settings.agents_page,
            stall_timeout=settings.stall_timeout,
            max_frame_bytes=settings.max_frame_bytes,
        )
        # The asyncio servicer: the sync one parks a thread per Watch, and that thread kept
        # the process alive after SIGTERM.
        self.health = HealthServicer()
        self.port = 0
        self.activity = Activity(self.board)
        self.ledger.listeners.append(self.activity.on_event)
        self.metrics = Metrics(self.board, self.activity) if settings.metrics else None
        self._http: dict[str, HttpServer] = {}
        if self.metrics is not None:
            routes = metrics_routes(self.metrics)
            self._http["metrics"] = HttpServer(settings.metrics, routes, certs=settings.certs, what="--metrics")
        if settings.web:
            routes = web_routes(self.activity)
            self._http["live view"] = HttpServer(settings.web, routes, certs=settings.certs, what="--web")
        self._server: grpc.aio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._memory_worker: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self._stopping: asyncio.Task[None] | None = None

    async def start(self) -> int:
        if self.state is not State.NEW:
            raise RuntimeError(f"orchestrator already {self.state.value}")
        check_bindable(self.settings.listen)  # one clear error, before gRPC logs its own
        for extra in (self.settings.metrics, self.settings.web):
            if extra:
                check_bindable(extra, "--metrics" if extra is self.settings.metrics else "--web")
        creds = server_credentials(self.settings.certs)
        server = grpc.aio.server(
            options=[
                ("grpc.so_reuseport", 0),  # a second orchgpt on the same port must fail, not share it
                ("grpc.max_receive_message_length", self.settings.max_frame_bytes),
                ("grpc.max_send_message_length", self.settings.max_frame_bytes),
                ("grpc.keepalive_time_ms", 20_000),
                ("grpc.keepalive_timeout_ms", 10_000),
                ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
                ("grpc.keepalive_permit_without_calls", 1),
                # A peer that never finishes TLS, or keeps a connection with no stream open, is let go.
                ("grpc.server_handshake_timeout_ms", int(self.settings.tls_handshake_timeout * 1000)),
                ("grpc.max_connection_idle_ms", int(self.settings.idle_timeout * 1000)),
                # TLS records of at most 4 KiB: the frame protector's buffers are held per
                # connection (a few KiB less for each idle peer), and the records of a busy
                # stream cost the same per byte either way.
                ("grpc.tsi.max_frame_size", TLS_RECORD_BYTES),
            ]
        )
        add_to_server(
            IacServicer(
                self.board,
                handshake_timeout=self.settings.handshake_timeout,
                frame_envelopes=self.settings.frame_envelopes,
            ),
            server,
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            [SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            server,
        )
        try:
            self.port = server.add_secure_port(self.settings.listen, creds)
        except RuntimeError as exc:
            raise ConfigError(f"cannot listen on {self.settings.listen}: {exc}") from None
        self.ledger.open()
        try:
            self.board.shared_memory = open_shared_memory(self.settings)
            for http in self._http.values():
                await http.start()
        except BaseException:
            for http in self._http.values():
                await http.stop()
            await self.ledger.close()
            if self.board.shared_memory is not None:
                self.board.shared_memory.store.close()
            raise
        await server.start()
        self._server = server
        for name in ("", SERVICE_NAME):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._sweeper = asyncio.create_task(self._sweep(), name="heartbeat-sweeper")
        if self.board.shared_memory is not None:
            self._memory_worker = asyncio.create_task(self.board.shared_memory.serve(), name="shared-memory")
        self.ledger.start()
        if self.metrics is not None:
            self.metrics.pauses.install()
        self.state = State.SERVING
        log.info("serving", listen=self.settings.listen, port=self.port)
        return self.port

    def urls(self) -> dict[str, str]:
        """The HTTP endpoints this orchestrator serves besides gRPC, by name."""
        return {name: http.url for name, http in self._http.items()}

    async def _sweep(self) -> None:
        interval = max(min(self.settings.heartbeat_timeout, self.settings.stall_timeout) / 4, 0.05)
        while True:
            await asyncio.sleep(interval)
            self.board.sweep(self.settings.heartbeat_timeout)

    async def stop(self, grace: float | None = None) -> None:
        if self.state is not State.SERVING:
            return
        self.state = State.STOPPING
        await self.health.enter_graceful_shutdown()  # every service reports NOT_SERVING from now on
        log.info("draining", grace=self.settings.grace if grace is None else grace)
        for task in (self._sweeper, self._memory_worker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.board.stopping = True
        for conn in list(self.board.connections.values()):
            conn.close()
        assert self._server is not None
        await self._server.stop(self.settings.grace if grace is None else grace)
        for http in self._http.values():
            await http.stop()
        await self.ledger.close()
        if self.board.shared_memory is not None:
            self.board.shared_memory.store.close()
        if self.metrics is not None:
            self.metrics.pauses.remove()
        self.state = State.STOPPED
        self._stopped.set()
        log.info("stopped")

    async def serve_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then stop gracefully (starts the server if needed)."""
        if self.state is State.NEW:
            await self.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal)
        await self._stopped.wait()
        if self._stopping is not None:
            await self._stopping

    def _on_signal(self) -> None:
        if self._stopping is None:
            self._stopping = asyncio.create_task(self.stop(), name="graceful-stop")
