"""Just enough of a WebSocket server (RFC 6455) to play Slack's side of Socket Mode in a test."""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import socket
import struct
import threading
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class SocketModePeer:
    """Accepts one client at a time, greets it with ``hello`` and exchanges JSON envelopes."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link"
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self._client: socket.socket | None = None
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._send_lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Whether the bot has connected within ``timeout`` seconds."""
        return self._connected.wait(timeout)

    def send(self, message: dict[str, Any]) -> None:
        assert self._client is not None
        self._send_frame(0x1, json.dumps(message).encode())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._client:
            self._client.close()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            client.settimeout(0.2)
            if not self._handshake(client):
                client.close()
                continue
            self._client = client
            self._send_frame(0x1, json.dumps({"type": "hello", "num_connections": 1}).encode())
            self._connected.set()
            self._read_frames(client)

    def _handshake(self, client: socket.socket) -> bool:
        request = b""
        while b"\r\n\r\n" not in request:
            try:
                chunk = client.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                return False
            request += chunk
        headers = dict(
            line.split(": ", 1) for line in request.decode("latin-1").split("\r\n")[1:] if ": " in line
        )
        key = {k.lower(): v for k, v in headers.items()}.get("sec-websocket-key", "")
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324
        client.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        return True

    def _read_frames(self, client: socket.socket) -> None:
        buffer = b""
        while not self._stop.is_set():
            try:
                chunk = client.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while (frame := _parse_frame(buffer)) is not None:
                opcode, payload, used = frame
                buffer = buffer[used:]
                if opcode == 0x1:
                    self.received.put(json.loads(payload))
                elif opcode == 0x9:
                    self._send_frame(0xA, payload)
                elif opcode == 0x8:
                    return

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([127]) + struct.pack("!Q", len(payload))
        assert self._client is not None
        with self._send_lock:
            self._client.sendall(header + payload)


def _parse_frame(buffer: bytes) -> tuple[int, bytes, int] | None:
    """(opcode, unmasked payload, bytes used) of the first whole frame in ``buffer``, else None."""
    if len(buffer) < 2:
        return None
    opcode = buffer[0] & 0x0F
    masked = buffer[1] & 0x80
    length = buffer[1] & 0x7F
    offset = 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length = struct.unpack("!H", buffer[2:4])[0]
        offset = 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length = struct.unpack("!Q", buffer[2:10])[0]
        offset = 10
    mask = b""
    if masked:
        mask = buffer[offset : offset + 4]
        offset += 4
    if len(buffer) < offset + length:
        return None
    payload = buffer[offset : offset + length]
    if masked:
        payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return opcode, payload, offset + length
