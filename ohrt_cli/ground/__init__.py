"""What every stage stands on: the database, the home, the store, hashing, signing, the tool wrappers,
rendering, config, times and errors (no SOP paragraph of its own: each module names those it serves).
Nothing here imports a stage or the CLI."""
