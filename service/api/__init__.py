"""HTTP routes: thin adapters between requests and the summarizer."""
