"""sigharness: a conformance harness for AWS request signing (SigV4 and SigV4A)."""

__version__ = "0.1.0"
