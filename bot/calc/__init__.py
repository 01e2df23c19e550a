"""Calculators beside the sizing engine: fine-tuning memory, serving capacity, image/video model memory, cost.
Each is a pure module from a request to a pydantic result, built on the engine's own functions."""
