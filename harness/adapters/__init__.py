"""Adapters: manifests, builds, and the processes that speak the JSON-lines protocol."""
