"""``python -m mlecourse.exercises [SOLUTIONS] [EXERCISES]``: regenerate the student notebooks."""

import sys

from mlecourse.exercises.generate import main

sys.exit(main())
