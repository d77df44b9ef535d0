"""An LlmAgent whose model refuses: an ordinary event with errorCode/errorMessage."""

from . import agent as agent
