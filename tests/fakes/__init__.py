"""Test doubles that speak real protocols over loopback (e.g. a fault-injecting OpenAI-compatible server)."""
