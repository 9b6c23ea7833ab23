"""The stages of a single-shot signature, declared once: what the reference signer exposes and comparison
judges, in the order a signer computes them, and the stage a refusal is reported at. The signer, the
verdicts, the report, bisect and fuzzing read them here (a module of names alone: reading them does not
load the signer)."""

# The stages a single-shot signer exposes, in order: compared with each adapter's answer.
STAGES = ("canonical_request", "string_to_sign", "signature", "signed_request")
# The stage a refusal is reported at: no signed request at all.
REFUSAL_STAGE = "sign"
