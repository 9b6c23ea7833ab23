"""The wire stage: a loopback capture server that records requests exactly as HTTP clients send
them (`server`), and the relay that lets a network-isolated adapter reach it and nothing else
(`relay`). See docs/wire.md."""
