"""The server's side: verify what arrives, one module per signing surface (single-shot header and
query signing in `single`; streaming, POST policies and tokens beside it), each on the shared
canonicalization code of `harness.reference`."""
