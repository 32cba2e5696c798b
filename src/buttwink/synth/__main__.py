"""``python -m buttwink.synth OUTDIR --seed N ...``"""

from .cli import main

main()
