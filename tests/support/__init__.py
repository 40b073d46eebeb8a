"""The tests' one place for building homes, officers, tasks, reviews and referrals through the real CLI.

`home` holds what every test stands on (the in-process runner, a new home with its roster, tasks, ohrt as
its own process, reading rows back); `review`, `refer`, `library` and `governance` build on it for their
stages; `pages` serves the page-capture tests' pages (on devtools/loopback.py) and `webfiles` makes the
evidence files an officer saved another way. conftest.py turns these into fixtures (`ohrt`, `make_home`, `library_media`, `site`, the media
makers); test modules import the builders from here, never from conftest.
"""
