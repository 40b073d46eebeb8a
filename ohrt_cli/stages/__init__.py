"""The stages of the flow, one module or small package per SOP stage, plain functions over a Context:
intake (SOP 8.1-8.6), capture (9.1), review (9.2-9.4), refer (10.1-10.7), library (10.8, 2.2), governance
(7.2, 7.5, 6.5) and evidence (6.3); disclosure (6.4) and anchor (9.1) serve several of them."""
