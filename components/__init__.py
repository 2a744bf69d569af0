"""twinnorm's own TFX components."""
