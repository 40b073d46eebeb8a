"""Posts with comments, served on 127.0.0.1 for the comment tests, in the three shapes ohrt looks for: JSON the
page's script fetches (as most platforms load comments), schema.org JSON-LD, and schema.org microdata."""

from __future__ import annotations

import json

# The page's script fetches these and writes them into the page: yt-dlp's generic extractor finds no media and
# no comments in the HTML; only the page capture's web archive holds them.
FETCHED = {"post": "p-1", "next": None, "comments": [
    {"id": "c-1", "author": {"name": "Kay Dee", "handle": "@kaydee_007"}, "text": "you lot are next, watch your back",
     "time": "2 days ago", "likes": 41,
     "replies": [{"id": "c-2", "author": {"name": "Rival Gang", "handle": "@rivalgang"}, "text": "come then",
                  "time": "1 day ago"}]},
    {"id": "c-3", "author": {"name": "Zed", "handle": "@zed.e"}, "text": "🔥🔥 tune", "time": "2026-11-20T18:04:00Z"},
]}

FETCHING = """<!doctype html><html><head><title>Drill post</title></head><body>
<article><h1>New drill by @blockboy</h1><p>Out now</p></article><section id="comments">loading comments…</section>
<script>
fetch('/api/comments.json?post=p-1').then(r => r.json()).then(data => {
  const box = document.getElementById('comments');
  box.textContent = '';
  const show = (c, depth) => {
    const p = document.createElement('p');
    p.textContent = '  '.repeat(depth) + c.author.handle + ' · ' + c.time + ': ' + c.text;
    box.appendChild(p);
    (c.replies || []).forEach(r => show(r, depth + 1));
  };
  data.comments.forEach(c => show(c, 0));
});
</script></body></html>"""

LD = {"@context": "https://schema.org", "@type": "SocialMediaPosting", "headline": "Drill post",
      "comment": [{"@type": "Comment", "author": {"@type": "Person", "name": "Kay Dee", "alternateName": "@kaydee_007"},
                   "text": "you lot are next", "dateCreated": "2026-11-20T18:04:00+01:00"}]}

JSON_LD = f"""<!doctype html><html><head><title>Post with JSON-LD</title>
<script type="application/ld+json">{json.dumps(LD)}</script></head>
<body><p>A post</p><p>@kaydee_007: you lot are next</p></body></html>"""

MICRODATA = """<!doctype html><html><head><title>Post with microdata</title></head><body>
<article itemscope itemtype="https://schema.org/SocialMediaPosting"><h1 itemprop="headline">Drill post</h1>
<div itemprop="comment" itemscope itemtype="https://schema.org/Comment">
  <span itemprop="author" itemscope itemtype="https://schema.org/Person"><b itemprop="name">Kay Dee</b>
    <i itemprop="alternateName">@kaydee_007</i></span>
  <time itemprop="dateCreated" datetime="2026-11-20T17:04:00Z">20 Nov</time>
  <p itemprop="text">you lot are <em>next</em></p>
</div></article></body></html>"""


def publish(site) -> dict[str, str]:
    """The three posts on `site`; their URLs by shape."""
    site.put("api/comments.json", json.dumps(FETCHED))
    return {"fetched": site.put("posts/fetching.html", FETCHING), "json-ld": site.put("posts/ld.html", JSON_LD),
            "microdata": site.put("posts/microdata.html", MICRODATA)}
