"""Talking to people: channels, message texts and reply parsing."""
