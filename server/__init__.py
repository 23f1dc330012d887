"""Goalpost: self-hostable analytics for goals and conversions."""

__version__ = "0.1.0"
