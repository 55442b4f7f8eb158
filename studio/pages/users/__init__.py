"""The users page: accounts, their roles, disabling and password resets (global administrators)."""
