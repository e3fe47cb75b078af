"""Unit tier: the domain and the services, on in-memory fakes; no network, no AWS."""
