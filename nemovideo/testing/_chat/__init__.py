"""The emulator's ``/run_sse``: the scripted agent's replies on the wire, controls and upstream proxying."""
