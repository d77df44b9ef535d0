"""The emulator's agent: what a sentence does to the draft, and the questions it asks."""
