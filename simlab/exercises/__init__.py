"""Exercise checkers for the lessons: run the student's answer, say precisely what is still wrong."""

from simlab.exercises.common import Feedback, refused_legit, relayed_by_network

__all__ = ["Feedback", "refused_legit", "relayed_by_network"]
