"""Pure business rules: no AWS, no environment."""
