"""Perceptual fingerprints of captured media, and matching them: how the Domain library (SOP 10.8)
recognises a removed video when it is uploaded again. `base.py` holds the fingerprint and the settings,
`extract.py` makes one from a file, `variants.py` hashes one frame the ways a re-upload may show it,
`matching.py` compares two, `index.py` finds candidates among many.

Pictures: one frame a second (PDQ_FPS; SHORT_FPS in a video shorter than SHORT_S) is hashed with PDQ,
Meta's open perceptual hash (256 bits), after a black border is cut off (`detect_crop`: never into the
picture) and the picture is scaled to FRAME_SIZE × FRAME_SIZE. Frames PDQ itself rates below quality 50
(near-blank, flat) are dropped. Each frame is also hashed mirrored, zoomed in (ZOOMS: crops of up to 10 %
a side), by halves (a caption band or a logo on the other half) and, where it holds one, the picture
inside it (VARIANTS); `matching.PAIRS` says which of the capture's are compared with which of the item's.

Sound: the Chromaprint fingerprint (the algorithm of AcoustID, through ffmpeg's `chromaprint` muxer, or
`fpcalc` where ffmpeg lacks it): one 32-bit value every 0.124 s (AUDIO_STEP_S).

Matching (`match`) compares two fingerprints and returns the segments that match side by side: the time
range in the capture and in the library item, the frames' PDQ distances, the sound's bit-error rate. The
thresholds below were tuned on generated media (see tests/test_match.py and the README). `Index` finds,
among many library items, the few worth comparing, in well under a second for 100,000 items.

This is ground: files, numbers and numpy; no tasks, no database. Import names from this package.
"""

from __future__ import annotations

from .base import (PDQ_FPS, SHORT_FPS, SHORT_S, ZOOMS, HALVES, FIRST_VARIANTS, full_variants, frame_step,
                   FRAME_SIZE, MIN_QUALITY, ZOOM, VARIANTS, AUDIO_STEP_S, AUDIO_SPAN_S, PDQ_MATCH,
                   PDQ_POSSIBLE, MIN_FRAMES, FRAME_GAP_S, AUDIO_MATCH, AUDIO_POSSIBLE, AUDIO_MIN_S,
                   AUDIO_MIN_CHANGE, KINDS, WORDS, BANDS, INDEX_REPS, INDEX_ZOOMS, INDEX_ZOOM_REPS, REP_SPACING,
                   REP_EVERY_S, INDEX_PDQ,
                   AUDIO_STRIDE, AUDIO_KEY_BITS, AUDIO_VOTES, Fingerprint, audio_seconds, empty_frames,
                   sample_times)
from .extract import (fingerprint_file, remember, Reader, tool_versions, detect_crop, frame_hashes, hash_frame,
                      chromaprint_muxer, audio_fingerprint, sampling_rate)
from .variants import frame_variants, inner_picture
from .matching import (PAIRS, as_words, distances, picture_distances, Segment, picture_segments, sound_segments, match,
                       expand)
from .index import representatives, index_columns, Index, save_index
from .standard import StandardHashes, remembered_standard, standard_hashes, photo_pdq, vpdq_hashes, pdq_bytes

__all__ = ["FIRST_VARIANTS", "HALVES", "PAIRS", "SHORT_FPS", "SHORT_S", "ZOOMS", "frame_step", "frame_variants",
           "full_variants", "inner_picture", "sampling_rate", "Reader", "remember", "remembered_standard",
           "AUDIO_KEY_BITS", "AUDIO_MATCH", "AUDIO_MIN_CHANGE", "AUDIO_MIN_S", "AUDIO_POSSIBLE", "AUDIO_SPAN_S",
           "AUDIO_STEP_S", "AUDIO_STRIDE", "AUDIO_VOTES", "BANDS", "FRAME_GAP_S", "FRAME_SIZE", "Fingerprint",
           "INDEX_PDQ", "INDEX_REPS", "INDEX_ZOOMS", "INDEX_ZOOM_REPS", "Index", "KINDS", "MIN_FRAMES", "MIN_QUALITY", "PDQ_FPS", "PDQ_MATCH",
           "PDQ_POSSIBLE", "REP_EVERY_S", "REP_SPACING", "Segment", "StandardHashes", "VARIANTS", "WORDS", "ZOOM", "as_words",
           "audio_fingerprint", "audio_seconds", "chromaprint_muxer", "sample_times", "detect_crop", "distances", "empty_frames",
           "expand", "fingerprint_file", "frame_hashes", "hash_frame", "index_columns", "match",
           "pdq_bytes", "photo_pdq", "picture_distances", "picture_segments", "representatives", "save_index",
           "sound_segments", "standard_hashes", "tool_versions", "vpdq_hashes"]
