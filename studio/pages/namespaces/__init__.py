"""A namespace as a workspace: its members, variables and secrets."""
