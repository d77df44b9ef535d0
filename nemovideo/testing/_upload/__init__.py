"""The emulator's uploads: multipart files, URL fetches, and the sample images."""
