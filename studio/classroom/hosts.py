"""The names the studio answers to, against DNS rebinding; and which address is asking.

A web page on any site can point its own name at this machine (DNS rebinding) and then read the
studio from the person's browser as if it were that site; the request then carries that site's
name in its `Host` header. So the studio answers only under the names it is served by:

  - localhost, 127.0.0.1 and ::1, always;
  - the --host it listens on, or, with --host 0.0.0.0 (or ::), this machine's names and
    addresses as far as they can be found here (host name, host.local, full name, addresses);
  - the public link's host, with --share (looked up per request: it is known after launch);
  - the names in STUDIO_ALLOWED_HOSTS (comma-separated; ".school.example" also allows every name
    under it; "*" turns the check off, e.g. behind a reverse proxy that checks names itself).

Which address is asking (`client_address`) is read here once, for the login's throttle, the
flood guard of the limits and the usage view alike.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
ALL_INTERFACES = frozenset({"0.0.0.0", "::", ""})
# Documentation addresses (RFC 5737, RFC 3849): "connecting" a UDP socket to them sends nothing
# but tells which local address the machine would use to reach other networks.
_OUTWARD_PROBES = ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1"))


def normalise(name: str) -> str:
    """A name as compared: lower case, without brackets around IPv6 or a final dot."""
    return name.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


def hostname_of(header: str) -> str:
    """The name in a `Host` header, without its port: "[::1]:7860" -> "::1"."""
    header = header.strip()
    if header.startswith("["):
        return normalise(header.partition("]")[0])
    if header.count(":") == 1:
        header = header.partition(":")[0]
    return normalise(header)


def served_hosts(host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Every name the studio answers to when listening on `host`, plus `extra`."""
    names = set(LOOPBACK) | {normalise(name) for name in extra if name.strip()}
    if normalise(host) in ALL_INTERFACES:
        names |= machine_names()
    else:
        names.add(normalise(host))
    return frozenset(names)


def machine_names() -> set[str]:
    """This machine's names and the addresses they and its outward interfaces have."""
    hostname = socket.gethostname()
    names = {hostname, f"{hostname}.local", socket.getfqdn()}
    addresses = set(_outward_addresses())
    for name in names:
        try:
            addresses |= {info[4][0] for info in socket.getaddrinfo(name, None)}
        except OSError:  # a name that does not resolve here, such as host.local without mDNS
            continue
    return {normalise(name) for name in names | addresses if name}


def _outward_addresses() -> Iterable[str]:
    for family, probe in _OUTWARD_PROBES:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 9))
                yield sock.getsockname()[0]
        except OSError:  # no route of that family
            continue


def client_address(peer: str, forwarded: str | None) -> str:
    """The address asking: the peer's, or, for a peer on this machine that names another (a
    share link's tunnel), the last address in X-Forwarded-For, which the last proxy appended."""
    if peer in LOOPBACK and forwarded:
        return forwarded.split(",")[-1].strip() or peer
    return peer


def is_served(header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a request with this `Host` header is for one of the `allowed` names."""
    allowed = set(allowed)
    if "*" in allowed:
        return True
    if not header:
        return False
    name = hostname_of(header)
    return name in allowed or any(
        entry.startswith(".") and (name.endswith(entry) or name == entry[1:]) for entry in allowed
    )
