"""A namespace's key-value store: the entries its flows read with kv('key'), and changing them."""
