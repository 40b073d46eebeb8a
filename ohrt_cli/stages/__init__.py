"""The stages of the flow, one module or small package per SOP stage, plain functions over a Context."""
