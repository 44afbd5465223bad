"""The name autograder zips published before ``grader.platforms`` existed register their
Otter plugin under: ``grader.otter_bridge.DlgradePlugin``."""

from grader.platforms.otter import DlgradePlugin

__all__ = ["DlgradePlugin"]
