#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets (test/fuzz/corpus/NAME/).
Run once after changing a target's input layout; the output is committed.

FuzzedDataProvider takes whole-byte values (ConsumeIntegral, ConsumeBool)
from the END of the input and ConsumeRemainingBytes from the front, so a
seed is the payload followed by its parameters, last-consumed first."""
import ipaddress
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def tail(*values: int) -> bytes:
    """Parameters in the order the target consumes them."""
    return bytes(reversed(values))


def context(family6: bool, src: str, dst: str, ttl: int) -> list[int]:
    return [1 if family6 else 0, *ipaddress.ip_address(src).packed,
            *ipaddress.ip_address(dst).packed, ttl]


# Captured from keepalived 2.2.7 (test/unit/packet_test.cc).
V3_IPV4 = bytes.fromhex("31339602 0064d862 c6336464 c6336465")
V3_IPV4_PLAIN = bytes.fromhex("31339602 0064e334 c6336464 c6336465")
V3_IPV4_SHUTDOWN = bytes.fromhex("31330002 00646e63 c6336464 c6336465")
V2_IPV4 = bytes.fromhex("2134c801 01027de1 c6336466 73656372 65743100")
V3_IPV6 = bytes.fromhex("31356402 00320ee2 20010db8 01000000 00000000 00000001"
                        " 20010db8 01000000 00000000 00000002")
V3_IPV4_DATAGRAM = bytes.fromhex("45c00024 00010000 ff70b057 c633640b e0000012") + V3_IPV4

CTX4 = context(False, "198.51.100.11", "224.0.0.18", 255)
CTX6 = context(True, "fe80::11", "ff02::12", 255)


def seeds() -> dict[str, dict[str, bytes]]:
    s: dict[str, dict[str, bytes]] = {}
    s["decode"] = {
        "v3-ipv4": V3_IPV4 + tail(*CTX4),
        "v3-ipv4-plain": V3_IPV4_PLAIN + tail(*CTX4),
        "v3-ipv4-shutdown": V3_IPV4_SHUTDOWN + tail(*CTX4),
        "v2-ipv4": V2_IPV4 + tail(*CTX4),
        "v3-ipv6": V3_IPV6 + tail(*CTX6),
    }
    s["parse_ipv4"] = {"keepalived-v3": V3_IPV4_DATAGRAM,
                       "options": V3_IPV4_DATAGRAM[:0] + bytes.fromhex(
                           "46c00028 00010000 ff70b057 c633640b e0000012 94040000") + V3_IPV4}
    # classify: context, then one router (count, vrid, version, priority,
    # interval, VIP count, VIP from the pool or source...).
    router = [1, 51, 1, 100, 10, 2, 0, 0, 0, 0, 0, 0, 0, 1]
    s["classify"] = {"v3-ipv4": V3_IPV4 + tail(*CTX4, *router),
                     "v2-ipv4": V2_IPV4 + tail(*CTX4, 1, 52, 0, 200, 2, 1, 0, 0, 0, 0, 0, 1)}
    s["router"] = {"two-v3": bytes(range(64)), "three": bytes(range(255, 0, -1)),
                   "quiet": b"\x00" * 32}
    ifname = b"eth0\x00"
    rta = struct.pack("=HH", 4 + len(ifname), 3) + ifname + b"\x00" * ((-len(ifname)) % 4)
    ifinfo = struct.pack("=BxHiII", 0, 1, 2, 0x1 | 0x40, 0xffffffff)
    newlink = ifinfo + rta
    msg = struct.pack("=IHHII", 16 + len(newlink), 16, 0, 1, 0) + newlink
    err = struct.pack("=IHHII", 36, 2, 0, 2, 0) + struct.pack("=i", -19) + b"\x00" * 16
    s["parse_link_messages"] = {"newlink": msg, "newlink-error": msg + err,
                                "dellink": struct.pack("=IHHII", 16 + len(newlink), 17, 0, 1, 0)
                                + newlink}
    cookie = bytes(range(1, 9))
    reply6 = bytes([129, 0, 0, 0, 0x12, 0x34, 0x00, 0x07]) + cookie
    s["is_echo_reply"] = {"ipv6": reply6 + tail(1, 0x12, 0x34, 0x00, 0x07, *cookie)}
    s["parse_server_state"] = {"bytes": bytes(range(200))}
    s["parse_lsn"] = {"lsn": b"16/B374D848", "zero": b"0/0", "max": b"FFFFFFFF/FFFFFFFF"}
    s["parse_bytes"] = {"mb": b"16MB", "plain": b"1024", "spaced": b"8 kB", "tb": b"4TB"}
    s["parse_fixed"] = {"tenth": b"0.1" + tail(2), "whole": b"40" + tail(3),
                        "fine": b"0.015" + tail(2)}
    s["line_buffer"] = {"lines": b"first line\r\nsecond\nthird without newline" + tail(10, 3),
                        "long": b"x" * 64 + tail(200)}
    configs = os.path.join(HERE, "..", "config")
    ini = {name: open(os.path.join(configs, name), "rb").read()
           for name in sorted(os.listdir(configs)) if name.endswith(".ini")}
    s["parse_config"] = ini
    s["read_ini"] = ini
    return s


def main():
    for name, files in seeds().items():
        d = os.path.join(CORPUS, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for fname, data in files.items():
            with open(os.path.join(d, fname), "wb") as f:
                f.write(data)
    print(f"wrote {sum(len(v) for v in seeds().values())} seeds under {CORPUS}")


if __name__ == "__main__":
    main()
