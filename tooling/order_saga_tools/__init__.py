"""The local cloud: the template on an embedded AWS emulator."""
