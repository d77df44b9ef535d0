"""The emulator's renderer: jobs, their controls, and real MP4s from ffmpeg."""
