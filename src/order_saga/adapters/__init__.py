"""AWS implementations of the ports."""
