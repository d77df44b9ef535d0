"""An agent that fails to load (2.x: 500 text/plain; 1.x: 200 and an error frame)."""

from . import agent as agent
