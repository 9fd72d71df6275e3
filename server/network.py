"""Where phones in the room can reach this machine, and whether an address is one they cannot open.

A session in a room runs from a laptop on the venue's Wi-Fi: phones open the laptop's address on that network. That
is the IPv4 address of the interface the default route leaves by, which a UDP socket "connected" to an address
outside the network tells without sending a packet. With no default route (a laptop that is itself a hotspot, a
network with no way out), the interfaces' own addresses are listed instead.
"""

from __future__ import annotations

import socket
import struct
import sys
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlsplit

# TEST-NET-2 (RFC 5737): documentation only, never on a real network; connecting a UDP socket to it only asks the
# routing table which of our addresses would send there.
PROBE_ADDRESS = "198.51.100.1"
# Linux's ioctl that reads an interface's IPv4 address (SIOCGIFADDR in <linux/sockios.h>).
_SIOCGIFADDR = 0x8915


class NoNetwork(RuntimeError):
    """This machine has no address phones could reach: it is on no network but its own loopback."""


def is_loopback(host: str) -> bool:
    """Whether a host name or address means "this machine only": 127.0.0.0/8, ::1 (also IPv4-mapped), localhost."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ip_address(name)
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def loopback_host(url: str) -> str | None:
    """The host and port of `url` when phones cannot open it (it names this machine only); None when they can."""
    parts = urlsplit(url)
    return parts.netloc if parts.hostname and is_loopback(parts.hostname) else None


def is_any_address(host: str) -> bool:
    """Whether listening on `host` means every interface (0.0.0.0, ::, or empty)."""
    return host.strip().strip("[]") in {"", "0.0.0.0", "::"}


def http_url(host: str, port: int) -> str:
    """`http://host:port` (the port left out when it is 80; an IPv6 address in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}" + ("" if port == 80 else f":{port}")


def lan_address() -> str:
    """This machine's IPv4 address on the network phones share with it; NoNetwork when it has none."""
    routed = _default_route_address()
    if routed is not None:
        return routed
    found = sorted(set(filter(_usable, interface_addresses())), key=_preference)
    if not found:
        raise NoNetwork(
            "this machine has no network address phones could reach (only 127.0.0.1, itself). Join the venue's "
            "Wi-Fi or a phone's hotspot and start again, or give the address phones use with --public-url."
        )
    return found[0]


def _default_route_address() -> str | None:
    """Our address on the interface of the default route, or None when there is no route out."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((PROBE_ADDRESS, 9))  # UDP: sets the peer, sends nothing
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return address if _usable(address) else None


def interface_addresses() -> list[str]:
    """Every IPv4 address of this machine we can find without a route: its name's, and (Linux) each interface's."""
    found: list[str] = []
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_DGRAM)
        found.extend(str(info[4][0]) for info in infos)
    except OSError:
        pass
    if sys.platform.startswith("linux"):
        import fcntl

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for _, name in socket.if_nameindex():
                request = struct.pack("256s", name.encode()[:15])
                try:
                    answer = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, request)
                except OSError:
                    continue  # the interface has no IPv4 address (or is gone)
                found.append(socket.inet_ntoa(answer[20:24]))
    return found


def _usable(address: str) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return isinstance(parsed, IPv4Address) and not (parsed.is_loopback or parsed.is_unspecified)


def _preference(address: str) -> tuple[bool, bool, str]:
    """Private networks (Wi-Fi, hotspots) first, link-local (no DHCP answered) last."""
    parsed = ip_address(address)
    return (parsed.is_link_local, not parsed.is_private, address)
