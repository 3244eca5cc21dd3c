"""Tools: definitions (short form or JSON Schema), argument validation, plugin handlers, the runner."""
