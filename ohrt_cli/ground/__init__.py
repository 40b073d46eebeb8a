"""What every stage stands on: the database, the home, the store, hashing, signing, the tool wrappers,
rendering, config, times and errors. Nothing here imports a stage or the CLI."""
