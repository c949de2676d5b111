"""Renderings of a summary result: Markdown, Slack Block Kit."""
