"""The Domain library, SOP 10.8 and 2.2: items and holds, retention and purge, sharing hashes."""
