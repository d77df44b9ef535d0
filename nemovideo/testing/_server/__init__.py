"""The emulator's web application: routes, the request log, the store of users and sessions, holds."""
