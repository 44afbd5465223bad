"""An autograder for deep-learning assignments with a sandboxed worker and a trusted suite."""

import os

# One BLAS thread per process (set before numpy loads its BLAS): graders run several processes
# side by side, and a BLAS thread pool per process only makes them fight over the cores.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__version__ = "0.1.0"
