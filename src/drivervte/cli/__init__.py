"""The ``drivervte`` command line: thin Typer commands over the Python API.

Command-line runs use one OpenBLAS thread unless the user sets ``OPENBLAS_NUM_THREADS``
(set here, before NumPy is imported). The estimators' matrix products are small (p x p
results of n x p sums), so extra BLAS threads mostly spin: at n = 1e6, p = 10 one thread
saved ~0.5-0.9 s CPU of a ~4 s ``drivervte finegray`` run on 2 cores. It also makes the
printed numbers independent of the machine's core count (threaded BLAS sums in a different
order, which moves results in the 15th digit).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
