#!/usr/bin/env python3
"""Prints a TCP port of 127.0.0.1 that nothing is bound to now, for a test server to take.

The port is chosen below the kernel's ephemeral range (net.ipv4.ip_local_port_range): a port
the kernel hands out itself (bind to port 0) is one it may give to the next outgoing
connection (a database client, a ZooKeeper session, a gRPC channel) before the test's server
binds it, and that server then fails to start. Below the range only another test's pick can
take it. Falls back to the kernel's choice when no port there is free.
"""
import random
import socket


def ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    low = ephemeral_low()
    candidates = [random.randrange(10000, low) for _ in range(64)] if low > 11000 else []
    for port in candidates + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free loopback port")


if __name__ == "__main__":
    print(free_port())
