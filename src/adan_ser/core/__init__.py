"""Foundation used by every layer: one-line errors, atomic writes, device choice, run seeds, the task scheduler."""
