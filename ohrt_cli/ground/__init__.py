"""What every stage stands on: the database, the home, the store, hashing, signing, the tool wrappers,
rendering, config, times and errors (no SOP stage of its own). Nothing here imports a stage or the CLI."""
