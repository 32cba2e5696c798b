"""buttwink: find butt wink (posterior pelvic tilt near the bottom of a squat) in side-view squat videos."""

__version__ = "0.1.0"
