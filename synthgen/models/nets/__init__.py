"""Plain nn.Modules, kept apart from training logic."""
