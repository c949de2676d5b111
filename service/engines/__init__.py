"""Engines turn a prepared article into an `IncidentSummary`; see `base.Engine`."""
