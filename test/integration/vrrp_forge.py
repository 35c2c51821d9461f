"""VRRP packets built by hand (not with pgvrrpd's codec), for the tests that
send malformed, unexpected or forged adverts from a namespace of their own:
bad_packets, forged_adverts, pg_forged_peer. Stdlib only: the packet
functions run inside the sending namespace (`run_in`)."""
from __future__ import annotations

import os
import socket
import struct

VIP = "198.51.100.100"
GROUP = "224.0.0.18"
VRRP_PROTOCOL = 112


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def advert(src: str, dst: str = GROUP, vrid: int = 51, prio: int = 254,
           addrs: tuple[str, ...] = (VIP,), vt: int = 0x31, interval: int = 10,
           bad_sum: bool = False) -> bytes:
    """A VRRPv3 IPv4 advert (vt: version and type nibbles), its checksum over
    the pseudo-header of src and dst, or a wrong one."""
    body = struct.pack("!BBBBH", vt, vrid, prio, len(addrs), interval & 0xfff)
    payload = body + b"\0\0" + b"".join(socket.inet_aton(a) for a in addrs)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack("!BBH", 0, VRRP_PROTOCOL, len(payload))
    c = checksum(pseudo + payload) ^ (0x5555 if bad_sum else 0)
    return body + struct.pack("!H", c) + payload[8:]


def advert_v2(vrid: int = 51, prio: int = 254, addrs: tuple[str, ...] = (VIP,)) -> bytes:
    """RFC 3768 5.3: auth type 0, Adver Int 1 s, no pseudo-header, 8 auth bytes."""
    body = struct.pack("!BBBBBB", 0x21, vrid, prio, len(addrs), 0, 1)
    rest = b"".join(socket.inet_aton(a) for a in addrs) + b"\0" * 8
    return body + struct.pack("!H", checksum(body + b"\0\0" + rest)) + rest


def with_ipv4_header(src: str, dst: str, message: bytes, ttl: int = 255) -> bytes:
    """message behind an IPv4 header of our own: any source address."""
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(message), 0, 0, ttl,
                         VRRP_PROTOCOL, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + message


def vrrp_socket(ttl: int = 255) -> socket.socket:
    """A raw VRRP socket on eth0; the kernel adds the IP header."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, VRRP_PROTOCOL)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
    return s


def ip_socket() -> socket.socket:
    """A raw IP socket on eth0: the sender writes the IP header itself."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
    return s


def run_in(host, body: str, *args: str, timeout: float = 30):
    """Runs the Python `body` in host's namespace with this module's names
    imported and sys.argv[1:] = args; returns the CompletedProcess."""
    script = host.lab.path(f"forge-{host.short}-{abs(hash(body)) % 10**8}.py")
    with open(script, "w") as f:
        f.write(f"import sys, time\nsys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
                "from vrrp_forge import *\n" + body)
    return host.run(["python3", script, *args], timeout=timeout)
