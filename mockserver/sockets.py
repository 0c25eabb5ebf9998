"""The kernel's timeouts of a blocking socket (SO_RCVTIMEO, SO_SNDTIMEO): a call past one
fails with EAGAIN (BlockingIOError), where settimeout would poll before every call."""

from __future__ import annotations

import socket
import struct

_TIMEVAL = struct.Struct("@ll")  # struct timeval: seconds, microseconds
_LONGEST_TIMEOUT = 365 * 24 * 3600.0


def set_timeout(sock: socket.socket, option: int, seconds: float) -> float:
    """Set the kernel's receive or send timeout of `sock`, from 1 ms (0 is none) to a year
    (`--idle-timeout inf` is no number of seconds); the timeout set."""
    seconds = min(max(seconds, 0.001), _LONGEST_TIMEOUT)
    whole = int(seconds)
    sock.setsockopt(socket.SOL_SOCKET, option, _TIMEVAL.pack(whole, int((seconds - whole) * 1_000_000)))
    return seconds
