"""Differential fuzzing: generate requests from the grammar of the parts signers disagree on, sign
each with every selected adapter, classify the outcomes into a divergence signature, shrink every
new signature to a minimal request with Hypothesis, and write it as a YAML case (`sigharness fuzz`).

strategies.py  the request grammar as Hypothesis strategies (case mappings, as in cases/*.yaml)
signature.py   per-adapter classes, divergence signatures, what is new and what is already known
engine.py      the adapters (started once, reused) and the search/shrink loop
writer.py      found cases as YAML under cases/found/, blessed like the curated ones
"""
