"""Lambda handlers: parse, call a service, map the result."""
