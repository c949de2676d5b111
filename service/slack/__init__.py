"""The Slack bot: a slash command and a message shortcut that post incident summaries into channels."""
