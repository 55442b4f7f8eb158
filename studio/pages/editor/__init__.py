"""The flow editor: palette, canvas, YAML and forms, revision history, and runs followed live."""
