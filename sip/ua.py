"""The SIP user agent's life cycle: one thread owns the pjsua2 Endpoint from libCreate to libDestroy.

That thread runs libHandleEvents (SIP messages, timers) in a loop and, in
between, the commands the event loop submits (answer, hang up, REFER, dial;
each wakes the thread, sip/waker.py), so every pjsua2 call happens on it;
pjsua2 has no worker threads of its own (threadCnt = 0), so SIP callbacks
run there too. The conference clock thread
moves audio frames (sip/bridge.py). Calls are named by a `key` on both
sides: PjCall on this thread, SipCall on the loop (sip/door.py).

Shutdown order matters to PJSIP: calls are hung up and given a moment for
their BYEs, the conference clock is stopped, then bridge ports, calls and
the account are deleted, and only then libDestroy (objects alive past it
crash the process). Bridge ports are never deleted before that: they are
pooled (sip/bridge.py PortPool).
"""

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pjsua2 as pj
import structlog

from sip.account import PjAccount, account_config, specific_address
from sip.availability import OptionsGate
from sip.bridge import FrameQueues, PortPool
from sip.call import CallDetails, PjCall
from sip.door import SipCall
from sip.options import SipOptions, wanted_codecs, wanted_transports
from sip.pump import InboundPump
from sip.uri import bare_uri, header, host_part, request_uri, user_part
from sip.waker import Waker, own_address

log = structlog.get_logger(__name__)

T = TypeVar("T")
_SHUTDOWN_POLL_MS = 10  # while the BYEs of the last calls go out
# The pjsua2-python 2.15.1 wheel is compiled with PJSUA_MAX_CALLS = 4: a 5th call fails with PJ_ETOOMANY
# (an INVITE gets 486) whatever max_calls says; more calls need a build of its own or more processes.
_WHEEL_MAX_CALLS = 4
_BYE_GRACE_S = 2.0  # at shutdown: how long hung-up calls get to finish their BYE
_TRANSPORTS = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP}
# pjsip's levels: 1 error, 2 warning, 3 info, 4+ debug. Its errors are mostly about what a peer sent
# (a malformed request, an offer with no codec in common): warnings for us, not failures of ours.
_LOG_LEVELS = {1: "warning", 2: "warning", 3: "info"}


class SipError(Exception):
    """pjsua2 refused something (a bind, a codec set-up, a call action); the message says what and why."""


def _reason(exc: BaseException) -> str:
    return exc.info() if isinstance(exc, pj.Error) else str(exc)


def _quietly(action: Callable[[], object], event: str) -> None:
    """Shutdown steps: one failing must not keep the next (libDestroy) from running."""
    try:
        action()
    except pj.Error as exc:
        log.warning(event, error=_reason(exc))


@contextlib.contextmanager
def _stdout_silenced():
    """pjlib prints its first lines (libCreate, before libInit hands its log to us) straight to fd 1."""
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class _LogWriter(pj.LogWriter):
    """PJSIP's log lines into structlog (called from any PJSIP thread)."""

    def write(self, entry) -> None:
        message = entry.msg.rstrip()
        if message:
            getattr(log, _LOG_LEVELS.get(entry.level, "debug"))("pjsip", message=message)


class _Endpoint(pj.Endpoint):
    def __init__(self, on_rejected: Callable[[int], None]) -> None:
        super().__init__()
        self.on_rejected = on_rejected

    def onRejectedIncomingCall(self, prm) -> None:  # noqa: N802 (pjsua2's name)
        """An INVITE pjsua2 refused by itself (488 for no codec in common, 486 past max_calls...)."""
        log.info("sip_call_rejected", status_code=prm.statusCode, reason=prm.reason,
                 call_id=header(prm.rdata.wholeMsg, "Call-ID", "i"), caller=bare_uri(prm.remoteInfo))
        self.on_rejected(prm.statusCode)


class UserAgent:
    """Start with `await start()`; incoming calls reach `on_incoming(SipCall)` on the loop; `dial()`
    places one; `await stop()` hangs everything up and destroys the endpoint."""

    def __init__(self, options: SipOptions, on_incoming: Callable[[SipCall], None],
                 user_agent: str = "Parley", pjsip_log_level: int = 2,
                 on_rejected: Callable[[int], None] | None = None,
                 refusing: Callable[[], str | None] = lambda: None) -> None:
        self.options = options
        self._refusing = refusing  # on the UA thread, at each OPTIONS: None, or why no new call is taken now
        self._on_rejected = on_rejected  # on the loop: an INVITE pjsua2 refused by itself, its status code
        self.user_agent = user_agent
        self.pjsip_log_level = pjsip_log_level
        self.pump = InboundPump(options.frame_ms / 1000)
        self.doors: dict[int, SipCall] = {}  # loop side, by key
        self.codecs: list[str] = []  # enabled, in preference order (known once started)
        self.addresses: list[str] = []  # transport/host:port we listen on
        self.host = ""  # host:port of our first transport (known once started)
        self.domain = ""  # the registrar's host: where E.164 numbers are dialled ("" = the caller's host)
        self._on_incoming = on_incoming
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._waker = Waker(None)  # until a UDP transport listens
        self._ready: concurrent.futures.Future = concurrent.futures.Future()
        self._done: concurrent.futures.Future = concurrent.futures.Future()
        self._stopping = threading.Event()
        self._keys = itertools.count(1)
        # UA thread only:
        self._endpoint: pj.Endpoint | None = None
        self._writer: _LogWriter | None = None
        self._account: PjAccount | None = None
        self._gate: OptionsGate | None = None  # alive until libDestroy, which unloads it
        self._calls: dict[int, PjCall] = {}
        self._retired: list[PjCall] = []
        self.ports = PortPool(options.clock_rate, options.frame_ms)

    # -- loop side -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the endpoint, listen, register if configured; raises SipError if any of it fails."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="sip-ua", daemon=True)
        self._thread.start()
        await asyncio.wrap_future(self._ready)
        log.info("sip_listening", addresses=self.addresses, codecs=self.codecs,
                 registrar=self.options.registrar, clock_rate=self.options.clock_rate)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Hang up every call, release every object, libDestroy; returns once the thread is gone."""
        if self._thread is None or not self._thread.is_alive():
            return
        self._stopping.set()
        self._waker.wake()
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._done)), timeout_s)
        except TimeoutError:
            log.error("sip_stop_timeout", timeout_s=timeout_s)
        await self.pump.aclose()
        self._waker.close()
        log.info("sip_stopped")

    def submit(self, action: Callable[[], T]) -> concurrent.futures.Future:
        """Run `action` on the UA thread; its result or exception (pj.Error -> SipError) in the future."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        if self._stopping.is_set() or self._done.done():
            future.set_exception(SipError("the SIP user agent is stopping"))
        else:
            self._commands.put((action, future))
            self._waker.wake()
        return future

    async def on_call(self, key: int, action: Callable[[PjCall], T]) -> T:
        """Run `action(call)` on the UA thread for the live call `key`; SipError if it is gone."""

        def run() -> T:
            call = self._calls.get(key)
            if call is None or call.gone:
                raise SipError("the call has ended")
            return action(call)

        return await asyncio.wrap_future(self.submit(run))

    async def dial(self, uri: str, from_uri: str | None = None) -> SipCall:
        """Place a call (INVITE) to `uri`, From `from_uri` (default: the account's address). Returns once the
        INVITE is out; `await call.connected()` for the answer."""
        key = next(self._keys)
        queues = FrameQueues(self.options.clock_rate, self.options.frame_ms)
        details = CallDetails(key, "outbound", "", user_part(uri) or uri, user_part(from_uri or ""), bare_uri(uri))
        door = SipCall(self, details, queues)
        self.doors[key] = door

        def make() -> str:
            assert self._account is not None
            call = PjCall(self, key, queues, self._account)
            op = pj.CallOpParam(True)
            if from_uri:
                op.txOption.localUri = from_uri
            call.makeCall(uri, op)
            self._calls[key] = call
            return call.getInfo().callIdString

        try:
            door.call_id = await asyncio.wrap_future(self.submit(make))
        except SipError:
            self.doors.pop(key, None)
            raise
        door.log = door.log.bind(call_id=door.call_id)
        return door

    def post(self, key: int, method: str, *args: Any) -> None:
        """From any pjsua2 thread: call SipCall.<method>(*args) on the loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._dispatch, key, method, args)

    def _dispatch(self, key: int, method: str, args: tuple) -> None:
        door = self.doors.get(key)
        if door is not None:
            door.context.run(getattr(door, method), *args)  # logged with the call's ids

    def _new_call(self, details: CallDetails, queues: FrameQueues) -> None:
        door = self.doors[details.key] = SipCall(self, details, queues)
        try:
            self._on_incoming(door)
        except Exception:
            log.exception("sip_incoming_handler_failed", call_id=details.call_id)

    # -- UA thread ---------------------------------------------------------------------------------

    def incoming(self, account: PjAccount, prm) -> None:
        """An INVITE pjsua2 accepted for processing (parseable, with a codec in common): tell the loop."""
        key = next(self._keys)
        queues = FrameQueues(self.options.clock_rate, self.options.frame_ms)
        call = PjCall(self, key, queues, account, prm.callId)
        info = call.getInfo()
        remote = bare_uri(info.remoteUri)
        details = CallDetails(key, "inbound", info.callIdString, user_part(request_uri(prm.rdata.wholeMsg)),
                              user_part(remote) or remote, remote)
        self._calls[key] = call
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._new_call, details, queues)

    def _rejected(self, status_code: int) -> None:
        loop = self._loop
        if self._on_rejected is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._on_rejected, status_code)

    def retire(self, call: PjCall) -> None:
        """A call disconnected: delete it on the next turn (not inside its own callback)."""
        self._retired.append(call)

    def _run(self) -> None:
        try:
            self._create()
        except BaseException as exc:  # noqa: BLE001 (reported to start(), then the thread ends)
            self._destroy()
            self._ready.set_exception(exc if isinstance(exc, SipError) else SipError(_reason(exc)))
            self._done.set_result(None)
            return
        self._ready.set_result(None)
        try:
            while not self._stopping.is_set():
                self._turn()
        finally:
            self._shut_down()
            self._done.set_result(None)

    def _turn(self) -> None:
        assert self._endpoint is not None
        self._endpoint.libHandleEvents(self._waker.poll_ms)
        while True:
            try:
                action, future = self._commands.get_nowait()
            except queue.Empty:
                break
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(action())
            except pj.Error as exc:
                future.set_exception(SipError(_reason(exc)))
            except BaseException as exc:  # noqa: BLE001 (the caller gets it)
                future.set_exception(exc)
        while self._retired:
            call = self._retired.pop()
            call.release()
            if self._calls.get(call.key) is call:
                del self._calls[call.key]

    def _create(self) -> None:
        options = self.options
        endpoint = self._endpoint = _Endpoint(self._rejected)
        with _stdout_silenced():
            endpoint.libCreate()
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0  # SIP events run on this thread, in libHandleEvents
        config.uaConfig.mainThreadOnly = False
        config.uaConfig.maxCalls = options.max_calls
        config.uaConfig.userAgent = self.user_agent
        self._writer = _LogWriter()
        config.logConfig.writer = self._writer
        config.logConfig.level = self.pjsip_log_level
        config.logConfig.consoleLevel = self.pjsip_log_level
        config.logConfig.decor = 0  # structlog stamps time and level itself
        media = config.medConfig
        media.clockRate = media.sndClockRate = options.clock_rate
        media.channelCount = 1
        media.noVad = True  # keep RTP flowing in silence: PBXes and NATs take a silent stream for a dead call
        media.ecTailLen = 0  # no sound device, so no echo of our own to cancel
        media.maxMediaPorts = max(media.maxMediaPorts, 2 * options.max_calls + 4)
        endpoint.libInit(config)
        self._gate = OptionsGate(self._refusing)
        self._gate.install()
        if options.max_calls > _WHEEL_MAX_CALLS:
            log.warning("sip_max_calls_capped", max_calls=options.max_calls, pjsua2=endpoint.libVersion().full,
                        reason=f"the pjsua2-python wheel takes at most {_WHEEL_MAX_CALLS} calls at once "
                               "(PJSUA_MAX_CALLS); run more gateway processes for more")
        endpoint.audDevManager().setNullDev()  # no sound card: a null device clocks the conference bridge
        self._set_codecs(endpoint)
        local_host = self.host = self._listen(endpoint)
        endpoint.libStart()
        self._account = PjAccount(self)
        self._account.create(account_config(options, local_host), True)
        self.domain = host_part(options.registrar) if options.registrar else ""

    def _listen(self, endpoint: pj.Endpoint) -> str:
        options = self.options
        local_host = ""
        for name in wanted_transports(options):
            config = pj.TransportConfig()
            config.port = options.port
            config.boundAddress = specific_address(options.bind_address)
            config.publicAddress = options.public_address or ""
            try:
                transport = endpoint.transportCreate(_TRANSPORTS[name], config)
            except pj.Error as exc:
                raise SipError(f"cannot listen for SIP on {options.bind_address or '*'}:{options.port}/{name}: "
                               f"{_reason(exc)}") from None
            address = endpoint.transportGetInfo(transport).localName
            self.addresses.append(f"{name}/{address}")
            local_host = local_host or address
            if name == "udp":
                self._waker = Waker(own_address(address, specific_address(options.bind_address)))
        return local_host

    def _set_codecs(self, endpoint: pj.Endpoint) -> None:
        wanted = wanted_codecs(self.options)
        chosen: list[tuple[int, str]] = []
        for codec in endpoint.codecEnum2():
            name = codec.codecId.split("/", 1)[0].upper()
            rank = wanted.index(name) if name in wanted else None
            endpoint.codecSetPriority(codec.codecId, 0 if rank is None else 250 - rank)
            if rank is not None:
                chosen.append((rank, codec.codecId))
        self.codecs = [codec_id for _, codec_id in sorted(chosen)]
        missing = [name for name in wanted if not any(c.split("/", 1)[0].upper() == name for c in self.codecs)]
        if missing:
            log.info("sip_codecs_unavailable", codecs=missing, reason="not in this pjsua2 build")
        if not self.codecs:
            raise SipError(f"none of the configured SIP codecs ({self.options.codecs}) is in this pjsua2 build")

    def _shut_down(self) -> None:
        """Hang up, give BYEs a moment, delete every object, then libDestroy (in that order)."""
        endpoint = self._endpoint
        if endpoint is not None and self._calls:
            endpoint.hangupAllCalls()
            deadline = time.monotonic() + _BYE_GRACE_S
            while any(not c.gone for c in self._calls.values()) and time.monotonic() < deadline:
                endpoint.libHandleEvents(_SHUTDOWN_POLL_MS)
        while True:  # commands submitted meanwhile fail rather than hang their callers
            try:
                _, future = self._commands.get_nowait()
            except queue.Empty:
                break
            if future.set_running_or_notify_cancel():
                future.set_exception(SipError("the SIP user agent is stopping"))
        self._destroy()

    def _destroy(self) -> None:
        calls = [*self._calls.values(), *self._retired]
        self._calls.clear()
        self._retired.clear()
        if self._endpoint is not None and self.ports.made:
            # Stop the conference clock first: a port deleted while it runs can crash the process (sip/bridge.py).
            _quietly(self._endpoint.audDevManager().setNoDev, "sip_clock_stop_failed")
        while calls:  # popped, so that no name keeps one alive past libDestroy (its destructor would crash)
            calls.pop().release()
        self.ports.close()
        if self._account is not None:
            _quietly(self._account.shutdown, "sip_account_shutdown_failed")
            self._account = None
        if self._endpoint is not None:
            _quietly(self._endpoint.libDestroy, "sip_destroy_failed")
            self._endpoint = None
        self._gate = None
        self._writer = None  # last: PJSIP logs through it until libDestroy returns
