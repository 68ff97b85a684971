"""Which network camera addresses may be opened (SSRF guard): resolve once, judge, pin the address judged."""
from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
RESOLVE_TIMEOUT_SECONDS = 3.0
KIND_WORDS = {
    "unspecified": "an unspecified address (0.0.0.0 or ::)", "loopback": "a loopback address (this server itself)",
    "link-local": "a link-local address (such as a cloud metadata service)", "multicast": "a multicast address",
    "private": "a private network address", "reserved": "a reserved address", "non-public": "a non-public address",
}
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443, "rtmp": 1935}


class AddressRefused(ValueError):
    """The camera address is not allowed; the message says why and what IT can do."""


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (getaddrinfo also reads 2130706433 and 0x7f000001 as IPv4)."""
    result: list[list[str]] = []

    def run() -> None:
        try:
            result.append(sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}))
        except (OSError, UnicodeError):
            result.append([])

    # getaddrinfo has no timeout: a slow DNS server must not hold the request thread.
    worker = threading.Thread(target=run, name="resolve", daemon=True)
    worker.start()
    worker.join(RESOLVE_TIMEOUT_SECONDS)
    return result[0] if result else []


def parse_allowed(entries: str | Iterable[str]) -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    """IT's list ("cam1.school.lan, 10.20.0.0/24, .cams.school.lan") as host names and networks."""
    items = entries.split(",") if isinstance(entries, str) else list(entries)
    names: set[str] = set()
    networks = []
    for raw in items:
        item = raw.strip().lower().rstrip(".")
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            names.add(item)
    return names, networks


def address_kind(ip: IPAddress) -> str | None:
    """Why an address is not a public camera ("loopback", "private", ...), or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"


def check_camera_url(url: str, allowed: str | Iterable[str] = "", allow_public: bool = False,
                     resolver: Resolver = resolve) -> str:
    """The URL to open: the host is on IT's list, or (allow_public) resolves only to public addresses.

    A host not named on the list is opened at the address that was checked (pinned), so a second
    DNS answer cannot point the camera loop somewhere else. Raises AddressRefused.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise AddressRefused("the stream address has no host name")
    names, networks = parse_allowed(allowed)
    if host in names or any(host.endswith(n) for n in names if n.startswith(".")):
        return url  # IT named this host: its DNS is IT's to trust
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 80)
    except ValueError:
        raise AddressRefused("the stream address has an invalid port") from None
    found = resolver(host, port)
    if not found:
        raise AddressRefused(f"cannot find the camera host {host!r} (check the address)")
    ips = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    listed = all(any(ip in net for net in networks) for ip in ips)
    if not listed:
        kinds = [k for k in (address_kind(ip) for ip in ips) if k]
        if kinds:
            raise AddressRefused(
                f"{host} is {KIND_WORDS[kinds[0]]}; cameras on the school network must be on the list IT "
                "allows (CAMERA_ALLOWED_HOSTS)")
        if not allow_public:
            raise AddressRefused(f"{host} is not on the list of cameras IT allows (CAMERA_ALLOWED_HOSTS)")
    return pin(url, str(ips[0]))


def pin(url: str, address: str) -> str:
    """The URL with its host replaced by the checked address (user, password and port kept)."""
    parts = urlsplit(url)
    userinfo, _, _hostport = parts.netloc.rpartition("@")
    host = f"[{address}]" if ":" in address else address
    netloc = (userinfo + "@" if userinfo else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
