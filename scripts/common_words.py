"""Regenerate templates/guard/common-words.txt, the common English words the guard does not match alone
(SOP 6.4; see ohrt_cli/ground/sensitive.py). Needs wordfreq, which ohrt itself does not:
`pip install wordfreq==3.1.1 && python scripts/common_words.py`."""

from pathlib import Path

from wordfreq import top_n_list, zipf_frequency

MIN_ZIPF, MIN_LETTERS = 4.0, 3
HEADER = """\
# English words of Zipf frequency 4.0 or more (about one in 100,000 words of ordinary text or more
# often), three letters or longer, from wordfreq 3.1.1 (scripts/common_words.py). A part of a name that
# is one of these is not matched alone (ohrt_cli/ground/sensitive.py); its whole name still is.
"""

words = sorted({w for w in top_n_list("en", 30000) if zipf_frequency(w, "en") >= MIN_ZIPF and w.isalpha()
                and w.isascii() and len(w) >= MIN_LETTERS})
target = Path(__file__).resolve().parent.parent / "templates" / "guard" / "common-words.txt"
target.write_text(HEADER + "".join(w + "\n" for w in words), encoding="utf-8")
print(f"{len(words)} words written to {target}")
