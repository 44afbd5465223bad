"""An autograder for deep-learning assignments with a sandboxed worker and a trusted suite."""

__version__ = "0.1.0"
