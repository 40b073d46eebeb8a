"""Content URLs: only http(s), one canonical form per piece of content, and the platform it is on.

The canonical form is what duplicates are found by (SOP 8.3.5): tracking parameters dropped, hosts
folded (m., www., twitter.com → x.com), youtu.be and /shorts/ links mapped to the watch URL, and a
TikTok post's /photo/ and /video/ links (one post, one id) folded into its /video/ link.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import InputError

MAX_URL = 8192   # longer than any link a browser shows; a bigger one is a pasting accident

# SOP 4.1.4's platforms: registrable domain → (platform code, canonical host).
PLATFORM_HOSTS = {
    "youtube.com": ("youtube", "www.youtube.com"),
    "youtu.be": ("youtube", "www.youtube.com"),
    "youtube-nocookie.com": ("youtube", "www.youtube.com"),
    "facebook.com": ("facebook", "www.facebook.com"),
    "fb.com": ("facebook", "www.facebook.com"),
    "fb.watch": ("facebook", "fb.watch"),
    "instagram.com": ("instagram", "www.instagram.com"),
    "instagr.am": ("instagram", "www.instagram.com"),
    "snapchat.com": ("snapchat", "www.snapchat.com"),
    "twitter.com": ("x", "x.com"),
    "x.com": ("x", "x.com"),
    "whatsapp.com": ("whatsapp", "whatsapp.com"),
    "wa.me": ("whatsapp", "wa.me"),
    "t.me": ("telegram", "t.me"),
    "telegram.me": ("telegram", "t.me"),
    "telegram.org": ("telegram", "telegram.org"),
    "reddit.com": ("reddit", "www.reddit.com"),
    "redd.it": ("reddit", "redd.it"),
    "tiktok.com": ("tiktok", "www.tiktok.com"),
}
PLATFORMS = ("youtube", "facebook", "instagram", "snapchat", "x", "whatsapp", "telegram", "reddit", "tiktok")
PLATFORM_NAMES = {
    "youtube": "YouTube", "facebook": "Facebook", "instagram": "Instagram", "snapchat": "Snapchat",
    "x": "X (Twitter)", "whatsapp": "WhatsApp", "telegram": "Telegram", "reddit": "Reddit", "tiktok": "TikTok",
}
PLATFORM_ALIASES = {"twitter": "x", "you tube": "youtube", "yt": "youtube", "fb": "facebook", "ig": "instagram"}

TRACKING_PARAMS = {
    "si", "fbclid", "gclid", "dclid", "msclkid", "igshid", "igsh", "mc_cid", "mc_eid", "feature",
    "ref_src", "ref_url", "_r", "_t", "is_from_webapp", "sender_device", "share_app_id", "utm",
}
# Parameters that only place or dress the player, not choose the content.
PLAYER_PARAMS = {"t", "start", "pp", "ab_channel", "list", "index", "s"}


# A TikTok post by its author and id: /@name/video/ID for a video, /@name/photo/ID for photos (a slideshow).
TIKTOK_POST = re.compile(r"^/(@[^/]+)/(?:video|photo)/(\d+)/?$")


def photo_post(url: str) -> bool:
    """Whether `url` is the link of a post of photos that yt-dlp does not take (a TikTok /photo/ link)."""
    parts = urlsplit((url or "").strip())
    return _registrable((parts.hostname or "").lower()) == "tiktok.com" and bool(
        re.match(r"^/@[^/]+/photo/\d+", parts.path))


def platform_code(text: str) -> str:
    """A platform as given by an officer (`--platform`): a known code, or a plain slug for any other."""
    value = (text or "").strip().lower()
    value = PLATFORM_ALIASES.get(value, value)
    if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]{0,39}", value):
        raise InputError(f"platform {text!r} is not a name: use e.g. youtube, tiktok, or another site's name.")
    return value


def _registrable(host: str) -> str | None:
    parts = host.split(".")
    for i in range(len(parts) - 1):
        candidate = ".".join(parts[i:])
        if candidate in PLATFORM_HOSTS:
            return candidate
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")   # C0, DEL and C1 (\x85 is a line end to some)


def canonical(url: str) -> tuple[str, str | None]:
    """(canonical URL, platform code or None when the host is not one of SOP 4.1.4's platforms)."""
    text = (url or "").strip()
    if len(text) > MAX_URL:
        raise InputError(f"URL of {len(text):,} characters is longer than the {MAX_URL:,} ohrt accepts: copy the "
                         "link again from the browser's address bar.")
    if _CONTROL.search(text):
        raise InputError(f"URL {text!r} holds control characters: copy the link again from the address bar.")
    odd = (" " if " " in text else None) if text.isascii() else \
        next((c for c in text if unicodedata.category(c) in ("Zs", "Zl", "Zp", "Cf")), None)
    if odd is not None:  # a space or an invisible character: an address bar shows them %-encoded
        raise InputError(f"URL {text!r} holds a space or an invisible character (U+{ord(odd):04X}): copy the link "
                         "again from the address bar.")
    try:
        parts = urlsplit(text)
        parts.hostname
    except ValueError:  # an unclosed or invalid [IPv6] address
        raise InputError(f"URL {text!r} has no valid host (an address in [brackets] must be a whole IPv6 "
                         "address): copy the full link from the browser's address bar.") from None
    if parts.netloc.startswith("[") or "[" in parts.netloc:
        import ipaddress

        inner, _, after = parts.netloc.split("@")[-1].partition("]")
        inner = inner.lstrip("[")
        try:
            ipaddress.IPv6Address(inner.split("%")[0])
        except ValueError:
            raise InputError(f"URL {text!r} has no valid host ({inner!r} is not an IPv6 address): copy the full "
                             "link from the browser's address bar.") from None
        if not re.fullmatch(r"(:[0-9]*)?", after):
            raise InputError(f"URL {text!r} has {after!r} after its IPv6 address, where only :PORT may be: copy the "
                             "full link from the browser's address bar.")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InputError(f"URL {text!r} is not an http(s) address: copy the full link, starting https://.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or (":" not in host and re.search(r"[^\w.-]", host)):
        raise InputError(f"URL {text!r} has no valid host: copy the full link from the browser's address bar.")
    try:
        port = parts.port
    except ValueError:
        raise InputError(f"URL {text!r} has an invalid port: check the link.") from None
    if port == 0:
        raise InputError(f"URL {text!r} has an invalid port (0): check the link.")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS]
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    domain = _registrable(host)
    platform = None
    if domain:
        platform, host = PLATFORM_HOSTS[domain]
        scheme, port = "https", None
        query = [(k, v) for k, v in query if k.lower() not in PLAYER_PARAMS]
        if platform == "youtube":
            path, query = _youtube(domain, path, query)
        elif platform == "tiktok":
            path = TIKTOK_POST.sub(r"/\1/video/\2", path)
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{shown}:{port}"
    else:
        netloc = shown
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), "")), platform


def _youtube(domain: str, path: str, query: list) -> tuple[str, list]:
    video = None
    if domain == "youtu.be":
        video = path.strip("/").split("/")[0]
    else:
        match = re.fullmatch(r"/(?:shorts|embed|live|v)/([A-Za-z0-9_-]+)/?", path)
        if match:
            video = match[1]
        elif path == "/watch":
            video = dict(query).get("v")
    if video:
        return "/watch", [("v", video)]
    return path, query


def platform_for(url: str, given: str | None) -> tuple[str, str]:
    """(canonical URL, platform): the platform from the URL, or the officer's `--platform` for others."""
    canon, detected = canonical(url)
    if given:
        chosen = platform_code(given)
        if detected and chosen != detected:
            raise InputError(
                f"--platform {chosen} contradicts the URL, which is on {detected}: drop --platform or fix the URL."
            )
        return canon, chosen
    if not detected:
        raise InputError(
            f"cannot tell the platform of {canon}: give it with --platform (e.g. --platform soundcloud)."
        )
    return canon, detected
