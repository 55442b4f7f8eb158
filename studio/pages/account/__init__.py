"""The signed-in person's own account: their roles, personal API tokens and password."""
