"""A namespace as a team's workspace: its secrets (encrypted), its variables, and the files uploaded for its
flows' FILE inputs."""
