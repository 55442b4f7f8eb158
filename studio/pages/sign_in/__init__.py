"""The sign-in and first-start pages."""
