"""Perceptual fingerprints of captured media, and matching them: how the Domain library (SOP 10.8)
recognises a removed video when it is uploaded again. `base.py` holds the fingerprint and the settings,
`extract.py` makes one from a file, `matching.py` compares two, `index.py` finds candidates among many.

Pictures: one frame a second (PDQ_FPS) is hashed with PDQ, Meta's open perceptual hash (256 bits), after
black borders are cut off with ffmpeg's `cropdetect` and the picture is scaled to 512 × 512. Frames PDQ
itself rates below quality 50 (near-blank, flat) are dropped. Each frame is also hashed mirrored, and
zoomed in by a few percent (ZOOM), so that a mirrored upload, or one cropped a little, still matches.

Sound: the Chromaprint fingerprint (the algorithm of AcoustID, through ffmpeg's `chromaprint` muxer, or
`fpcalc` where ffmpeg lacks it): one 32-bit value every 0.124 s (AUDIO_STEP_S).

Matching (`match`) compares two fingerprints and returns the segments that match side by side: the time
range in the capture and in the library item, the frames' PDQ distances, the sound's bit-error rate. The
thresholds below were tuned on generated media (see tests/test_match.py and the README). `Index` finds,
among many library items, the few worth comparing, in well under a second for 100,000 items.

This is ground: files, numbers and numpy; no tasks, no database. Import names from this package.
"""

from __future__ import annotations

from .base import (PDQ_FPS, FRAME_SIZE, MIN_QUALITY, ZOOM, VARIANTS, AUDIO_STEP_S, AUDIO_SPAN_S, PDQ_MATCH,
                   PDQ_POSSIBLE, MIN_FRAMES, FRAME_GAP_S, AUDIO_MATCH, AUDIO_POSSIBLE, AUDIO_MIN_S,
                   AUDIO_MIN_CHANGE, KINDS, WORDS, BANDS, INDEX_REPS, REP_SPACING, REP_EVERY_S, INDEX_PDQ,
                   AUDIO_STRIDE, AUDIO_KEY_BITS, AUDIO_VOTES, Fingerprint, audio_seconds, empty_frames)
from .extract import (fingerprint_file, remember, Reader, tool_versions, detect_crop,
                      frame_hashes, hash_frame, chromaprint_muxer, audio_fingerprint)
from .matching import (as_words, distances, picture_distances, Segment, picture_segments, sound_segments, match,
                       expand)
from .index import representatives, index_columns, Index, save_index
from .standard import StandardHashes, remembered_standard, standard_hashes, photo_pdq, vpdq_hashes, pdq_bytes

__all__ = ["Reader", "remember", "remembered_standard", "AUDIO_KEY_BITS", "AUDIO_MATCH", "AUDIO_MIN_CHANGE", "AUDIO_MIN_S", "AUDIO_POSSIBLE", "AUDIO_SPAN_S",
           "AUDIO_STEP_S", "AUDIO_STRIDE", "AUDIO_VOTES", "BANDS", "FRAME_GAP_S", "FRAME_SIZE", "Fingerprint",
           "INDEX_PDQ", "INDEX_REPS", "Index", "KINDS", "MIN_FRAMES", "MIN_QUALITY", "PDQ_FPS", "PDQ_MATCH",
           "PDQ_POSSIBLE", "REP_EVERY_S", "REP_SPACING", "Segment", "StandardHashes", "VARIANTS", "WORDS", "ZOOM", "as_words",
           "audio_fingerprint", "audio_seconds", "chromaprint_muxer", "detect_crop", "distances", "empty_frames",
           "expand", "fingerprint_file", "frame_hashes", "hash_frame", "index_columns", "match",
           "pdq_bytes", "photo_pdq", "picture_distances", "picture_segments", "representatives", "save_index",
           "sound_segments", "standard_hashes", "tool_versions", "vpdq_hashes"]
