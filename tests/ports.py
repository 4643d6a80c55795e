"""A free TCP port on 127.0.0.1 for the rendezvous of multi-process (gloo) tests."""

from __future__ import annotations

import socket


def free_port() -> int:
    """Ask the OS for an unused port (closed again at once; the ranks bind it moments later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
