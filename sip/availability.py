"""Answering OPTIONS with 503 while this user agent takes no new calls (models loading, draining).

A SIP load balancer (Kamailio's dispatcher, deploy/kamailio) probes each
worker with OPTIONS and sends calls only to those answering 200. pjsua
answers every OPTIONS with 200 itself and pjsua2 has no hook for it, so
this registers a small PJSIP module of its own, through ctypes, just ahead
of pjsua's OPTIONS handler: while `refusing()` gives a reason, an out-of-dialog
OPTIONS gets 503 here and never reaches pjsua's handler; otherwise the
module steps aside. The functions it calls are exported by the pjsua2
extension itself (the same copy of PJSIP the endpoint runs on).

The module runs on the thread that runs libHandleEvents (sip/ua.py): no
locking, and `refusing` must be cheap and thread-safe (reading flags).
"""

import ctypes
from collections.abc import Callable

import pjsua2
import structlog

log = structlog.get_logger(__name__)

# pjsip/sip_module.h: APPLICATION is 64 (pjsua's OPTIONS and call modules); lower runs first on requests,
# and 63 still comes after the transaction and dialog layers, so in-dialog requests never get here.
_PRIORITY = 63
_UNAVAILABLE = 503
_RxCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _PjStr(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_char_p), ("slen", ctypes.c_ssize_t)]


class _PjsipModule(ctypes.Structure):
    """struct pjsip_module (unchanged in layout since PJSIP 1.x, checked against 2.15.1's header)."""

    _fields_ = [("prev", ctypes.c_void_p), ("next", ctypes.c_void_p), ("name", _PjStr), ("id", ctypes.c_int),
                ("priority", ctypes.c_int), ("load", ctypes.c_void_p), ("start", ctypes.c_void_p),
                ("stop", ctypes.c_void_p), ("unload", ctypes.c_void_p), ("on_rx_request", _RxCallback),
                ("on_rx_response", ctypes.c_void_p), ("on_tx_request", ctypes.c_void_p),
                ("on_tx_response", ctypes.c_void_p), ("on_tsx_state", ctypes.c_void_p)]


def _pjsip() -> ctypes.CDLL:
    lib = ctypes.CDLL(pjsua2._pjsua2.__file__)  # already loaded: the same handle, the same PJSIP
    lib.pjsua_get_pjsip_endpt.restype = ctypes.c_void_p
    lib.pjsip_endpt_register_module.argtypes = [ctypes.c_void_p, ctypes.POINTER(_PjsipModule)]
    lib.pjsip_rx_data_get_info.argtypes = [ctypes.c_void_p]
    lib.pjsip_rx_data_get_info.restype = ctypes.c_char_p
    lib.pjsip_endpt_respond_stateless.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                                                  ctypes.POINTER(_PjStr), ctypes.c_void_p, ctypes.c_void_p]
    return lib


class OptionsGate:
    """Install after libInit, before the transports take requests. libDestroy unregisters it (PJSIP's endpoint
    unloads every module): this object must live until then."""

    def __init__(self, refusing: Callable[[], str | None]) -> None:
        """`refusing()` returns None while new calls are welcome, or the reason phrase of the 503."""
        self._refusing = refusing
        self._lib = _pjsip()
        self._endpoint = self._lib.pjsua_get_pjsip_endpt()
        self._name = b"mod-parley-availability"
        self._reasons: dict[str, _PjStr] = {}  # kept alive: PJSIP copies the text only when it sends
        self._callback = _RxCallback(self._on_request)  # kept alive as long as the module is registered
        self._module = _PjsipModule(name=_PjStr(self._name, len(self._name)), id=-1, priority=_PRIORITY,
                                    on_rx_request=self._callback)

    def install(self) -> None:
        status = self._lib.pjsip_endpt_register_module(self._endpoint, ctypes.byref(self._module))
        if status != 0:
            raise OSError(f"PJSIP refused the OPTIONS module (status {status})")

    def _on_request(self, rdata: int) -> int:
        try:
            info = self._lib.pjsip_rx_data_get_info(rdata) or b""
            if not info.startswith(b"Request msg OPTIONS/"):
                return 0
            reason = self._refusing()
            if reason is None:
                return 0  # pjsua's own handler answers 200, with its Allow and Accept
            text = self._reasons.get(reason)
            if text is None:
                raw = reason.encode("ascii", "replace")
                text = self._reasons[reason] = _PjStr(raw, len(raw))
            self._lib.pjsip_endpt_respond_stateless(self._endpoint, rdata, _UNAVAILABLE, ctypes.byref(text),
                                                    None, None)
            return 1
        except Exception as exc:  # noqa: BLE001 (an exception must not cross back into C; pjsua answers instead)
            log.error("sip_options_gate_failed", error=repr(exc))
            return 0
