"""PURAIFY control plane: the shared package of every Lambda (the CoreLayer)."""

__version__ = "0.1.0"
