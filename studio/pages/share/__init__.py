"""The public page of a share link: one flow or one execution, read-only."""
