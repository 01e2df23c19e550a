"""The sizing engine: pure functions from a SizingRequest to a SizingReport.

The only source of fit and speed numbers."""
