"""TED's API as the crawler uses it: what to ask, and what to believe of the answers.

- ``GET /talks/<id>`` redirects to ``/talks/<slug>`` (:func:`fetch_video`);
- ``POST /graphql`` (:data:`VIDEO_QUERY`) gives the metadata and the published subtitle languages
  (:func:`query_video`, read by :func:`parse_video` into a meta.json dict);
- ``GET /talks/<slug>/transcript.json?language=<code>`` gives a transcript (:func:`fetch_transcript`);
- ``GET /talks/rss`` lists the latest talks (:func:`latest_talk_ids`, :func:`parse_rss`).

Nothing TED sends is trusted: a slug or language code must match a strict pattern (and the language
registry) before it names a URL or a file; JSON is type-checked field by field, and text is checked
as the build checks it (:func:`builder.parse.unicode_problem`): a transcript with a lone surrogate is
rejected like any invalid body, and one in the metadata is replaced by U+FFFD (see
:func:`parse_video`). The RSS feed is parsed with defusedxml. No shell, no pickle.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote, urlsplit

import defusedxml.ElementTree as SafeET

from . import languages
from .fetch import Fetcher, FetchError, Response
from .parse import LONE_SURROGATE, parse_transcript_json, unicode_problem
from .rawstore import TALK_DIR, TED_CODE, parse_talk_id
from .records import InputError

TED_ENDPOINT = "https://www.ted.com"

# The seed pipeline's video query, plus ``id`` (for RSS items without a talk id) and ``duration``.
# ``first: 999``: the languages are a connection; without it TED may return only its default page.
VIDEO_QUERY = """
query ($videoId: ID!) {
  video(id: $videoId) {
    id
    slug
    title
    description
    presenterDisplayName
    publishedAt
    duration
    publishedSubtitleLanguages(first: 999) { edges { node { internalLanguageCode } } }
    topics { nodes { name } }
  }
}
""".strip()

SLUG = re.compile(r"[a-z0-9_]{1,200}")
MISSING_STATUSES = frozenset({404, 410})


def check_slug(value) -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise FetchError("unsafe_slug", repr(value)[:80])
    return value


def ted_language(value) -> languages.Language | None:
    """The registry language of a TED code from the network, or None when it is not a safe, known code."""
    if not isinstance(value, str) or not TED_CODE.fullmatch(value):
        return None
    try:
        return languages.from_ted(value)
    except languages.UnknownLanguageError:
        return None


def _dig(doc, *keys):
    """doc[k1][k2]... where every step is a dict; None otherwise."""
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _node_values(connection, container: str, key: str) -> list:
    """Values of ``key`` in ``{container: [{"node": {...}}]}`` or ``{container: [{...}]}``, skipping bad items."""
    items = connection.get(container) if isinstance(connection, dict) else None
    if not isinstance(items, list):
        raise InputError("malformed_metadata", f"{container!r} is not a list")
    values = []
    for item in items:
        node = item.get("node", item) if isinstance(item, dict) else None
        if isinstance(node, dict) and key in node:
            values.append(node[key])
    return values


def safe_text(value: str) -> tuple[str, str | None]:
    """``value`` with every lone surrogate replaced by U+FFFD, and the problem found
    (:func:`builder.parse.unicode_problem`), or None when there was none."""
    problem = unicode_problem(value)
    return (value, None) if problem is None else (LONE_SURROGATE.sub("\ufffd", value), problem)


def parse_video(doc, talk_id: int, slug: str | None) -> tuple[dict | None, list, list[str]]:
    """GraphQL answer -> (meta.json dict in rawstore.META_FIELDS terms, or None when TED has no such
    talk; TED language codes that were rejected; text repairs). Raises InputError on a malformed answer.

    Text fields (title, speaker, description, published, each topic) may hold a lone surrogate: valid
    JSON (``"\\ud800"``), but no UTF-8 file holds it and the build refuses it. Such a field is kept, with
    each lone surrogate replaced by U+FFFD (:func:`safe_text`), rather than dropped: one bad character
    costs one character, not the whole title, and U+FFFD is what a UTF-8 decoder gives for the same
    damage. Each repair is returned as ``"<field>: <problem>"``; the caller logs it (``repaired_text``).
    Slugs and language codes are never repaired: they must match their patterns or are rejected.
    """
    if not isinstance(doc, dict):
        raise InputError("malformed_metadata", "not a JSON object")
    video = _dig(doc, "data", "video")
    if video is None:
        if doc.get("errors"):
            raise InputError("graphql_error", json.dumps(doc["errors"], ensure_ascii=False)[:200])
        if slug is not None:  # the talk page exists: a null video is TED's hiccup, not a 404
            raise InputError("no_video_metadata", f"/talks/{talk_id} redirects to {slug}, but GraphQL has no video")
        return None, [], []
    if not isinstance(video, dict):
        raise InputError("malformed_metadata", "'video' is not an object")
    slug = slug or check_slug(video.get("slug"))
    codes = _node_values(video.get("publishedSubtitleLanguages"), "edges", "internalLanguageCode")
    listed, rejected = [], []
    for code in codes:
        lang = ted_language(code)
        if lang is None:
            rejected.append(code if isinstance(code, str) else repr(code))
        elif lang.ted_code not in listed:  # canonical TED spelling: it names the file and the URL
            listed.append(lang.ted_code)
    repaired: list[str] = []

    def text(name: str, value: str) -> str:
        value, problem = safe_text(value)
        if problem:
            repaired.append(f"{name}: {problem}")
        return value

    topics = []
    if video.get("topics") is not None:
        topics = [t for t in _node_values(video["topics"], "nodes", "name") if isinstance(t, str)]
        topics = [text(f"topics[{i}]", t) for i, t in enumerate(topics)]
    # The url is TED's canonical one even when crawling a mirror: it names the talk, not our source.
    meta = {"id": talk_id, "slug": slug, "url": f"{TED_ENDPOINT}/talks/{slug}", "languages": listed,
            "topics": topics}
    for key, source in (("title", "title"), ("speaker", "presenterDisplayName"),
                        ("description", "description"), ("published", "publishedAt")):
        if isinstance(video.get(source), str):
            meta[key] = text(key, video[source])
    duration = video.get("duration")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and 0 <= duration < 1e7:
        meta["duration_s"] = int(duration)
    return meta, rejected, repaired


def parse_rss(body: bytes) -> list[tuple[int | None, str | None]]:
    """(talk id, slug) of each RSS item, newest first; either may be None. Unsafe values become None."""
    try:
        root = SafeET.fromstring(body)
    except Exception as exc:  # defusedxml raises several types: ParseError, EntitiesForbidden, ...
        raise InputError("malformed_rss", type(exc).__name__) from None
    items = []
    for item in root.iter():
        if _local(item.tag) != "item":
            continue
        fields = {_local(child.tag): (child.text or "").strip() for child in item}
        talk_id = None
        try:
            talk_id = parse_talk_id(fields.get("talkId", ""))
        except ValueError:
            pass
        slug = None
        path = unquote(urlsplit(fields.get("link", "")).path)
        if path.startswith("/talks/") and SLUG.fullmatch(path[len("/talks/"):].rstrip("/")):
            slug = path[len("/talks/"):].rstrip("/")
        items.append((talk_id, slug))
    return items


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _json_object(body: bytes) -> dict:
    doc = json.loads(body)
    if not isinstance(doc, dict):
        raise InputError("malformed_json", "not a JSON object")
    return doc


# -- the queries -----------------------------------------------------------------------------------


async def query_video(fetcher: Fetcher, video_id: str) -> dict:
    """TED's GraphQL answer (a JSON object) for a slug or a talk id."""
    answer = await fetcher.fetch("POST", fetcher.url("/graphql"), validate=_json_object,
                                 json_body={"query": VIDEO_QUERY, "variables": {"videoId": video_id}})
    if answer.status != 200:
        raise FetchError(f"http_{answer.status}", "graphql")
    return json.loads(answer.body)


async def fetch_video(fetcher: Fetcher, talk_id: int) -> tuple[dict | None, list, list[str]]:
    """Slug from the /talks/<id> redirect, then the GraphQL metadata: :func:`parse_video`'s
    (meta, rejected codes, text repairs); meta is None when TED has no such talk.
    Raises FetchError or InputError."""
    answer = await fetcher.fetch("GET", fetcher.url(f"/talks/{talk_id}"), follow_redirects=False)
    if answer.status in MISSING_STATUSES:
        return None, [], []
    slug = None
    if 300 <= answer.status < 400:
        target = fetcher.same_origin(answer.url, answer.headers.get("location", ""))
        path = unquote(urlsplit(target).path)
        prefix = urlsplit(fetcher.config.endpoint).path + "/talks/"
        if not path.startswith(prefix):
            raise FetchError("unexpected_redirect", path[:200])
        slug = check_slug(path[len(prefix):].rstrip("/"))
    elif answer.status != 200:  # 200: no redirect (a mirror, say); GraphQL knows talks by id too
        raise FetchError(f"http_{answer.status}", answer.url)
    return parse_video(await query_video(fetcher, slug or str(talk_id)), talk_id, slug)


async def fetch_transcript(fetcher: Fetcher, slug: str, ted_code: str) -> Response:
    """TED's answer for one transcript; a 2xx body is a valid transcript (else it was retried).
    Raises FetchError."""
    return await fetcher.fetch("GET", fetcher.url(f"/talks/{slug}/transcript.json?language={ted_code}"),
                               validate=parse_transcript_json)


async def latest_talk_ids(fetcher: Fetcher, count: int) -> tuple[int, ...]:
    """The newest ``count`` talks of TED's RSS feed. An item without a talk id is looked up by slug."""
    answer = await fetcher.fetch("GET", fetcher.url("/talks/rss"), validate=parse_rss)
    if answer.status != 200:
        raise FetchError(f"http_{answer.status}", "RSS feed")
    ids: list[int] = []
    for talk_id, slug in parse_rss(answer.body):
        if len(ids) == count:
            break
        if talk_id is None and slug is not None:
            try:
                video_id = _dig(await query_video(fetcher, slug), "data", "video", "id")
            except FetchError:
                video_id = None
            talk_id = parse_talk_id(video_id) if isinstance(video_id, str) and TALK_DIR.fullmatch(video_id) else None
        if talk_id is not None and talk_id not in ids:
            ids.append(talk_id)
    return tuple(ids)
