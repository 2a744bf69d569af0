"""The run report component (component.py), what it reads (collect.py) and draws (render.py)."""
