"""Tasks of the rescoring workflow.

The package's first act is to point numba at the kernel cache the ScoringLayer ships (a no-op
outside Lambda), so that no task compiles numba code at cold start.
"""

from functions.shared.numba_cache import use_shipped_cache

use_shipped_cache()
