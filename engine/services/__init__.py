"""What every entry point (the API, the CLI, the studio) and the runtime processes call: rules above the store."""
